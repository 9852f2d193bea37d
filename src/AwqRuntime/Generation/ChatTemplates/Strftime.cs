using System.Globalization;
using System.Text;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// <c>strftime_now(format)</c>: Python's datetime.now().strftime(format) (transformers renders with it;
/// Llama 3.1 and later ask for "%d %b %Y"). The C-locale directives are supported, with glibc's "-"
/// flag for no padding ("%-d"). The time is naive, as datetime.now() is, so %z and %Z print nothing.
/// </summary>
internal static class Strftime
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    private static readonly string[] Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    public static string Format(DateTime t, string format)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c != '%' || i + 1 >= format.Length)
            {
                sb.Append(c);
                continue;
            }
            var d = format[++i];
            var pad = true;
            if (d == '-' && i + 1 < format.Length)
            {
                pad = false;
                d = format[++i];
            }
            string Num(int value, int width) => pad ? value.ToString(new string('0', width), CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture);
            var hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
            sb.Append(d switch
            {
                'a' => Days[(int)t.DayOfWeek][..3],
                'A' => Days[(int)t.DayOfWeek],
                'b' or 'h' => Months[t.Month - 1][..3],
                'B' => Months[t.Month - 1],
                'c' => $"{Days[(int)t.DayOfWeek][..3]} {Months[t.Month - 1][..3]} {t.Day,2} {t:HH:mm:ss} {t.Year}",
                'd' => Num(t.Day, 2),
                'e' => pad ? t.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2) : t.Day.ToString(CultureInfo.InvariantCulture),
                'D' => $"{t.Month:00}/{t.Day:00}/{t.Year % 100:00}",
                'F' => $"{t.Year:0000}-{t.Month:00}-{t.Day:00}",
                'H' => Num(t.Hour, 2),
                'I' => Num(hour12, 2),
                'j' => Num(t.DayOfYear, 3),
                'm' => Num(t.Month, 2),
                'M' => Num(t.Minute, 2),
                'n' => "\n",
                'p' => t.Hour < 12 ? "AM" : "PM",
                'r' => $"{hour12:00}:{t.Minute:00}:{t.Second:00} {(t.Hour < 12 ? "AM" : "PM")}",
                'R' => $"{t.Hour:00}:{t.Minute:00}",
                'S' => Num(t.Second, 2),
                't' => "\t",
                'T' => $"{t.Hour:00}:{t.Minute:00}:{t.Second:00}",
                'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'w' => ((int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'x' => $"{t.Month:00}/{t.Day:00}/{t.Year % 100:00}",
                'X' => $"{t.Hour:00}:{t.Minute:00}:{t.Second:00}",
                'y' => Num(t.Year % 100, 2),
                'Y' => t.Year.ToString(CultureInfo.InvariantCulture),
                'z' or 'Z' => "",
                'f' => Num(t.Millisecond * 1000 + t.Microsecond, 6),
                '%' => "%",
                _ => throw new TemplateError($"strftime_now: unsupported directive '%{d}'"),
            });
        }
        return sb.ToString();
    }
}
