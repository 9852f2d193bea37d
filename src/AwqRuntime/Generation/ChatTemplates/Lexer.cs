using System.Globalization;
using System.Text;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// Splits a Jinja template into text and tag tokens, applying whitespace control the way Jinja's lexer
/// does with the settings Hugging Face renders chat templates with (transformers'
/// utils/chat_template_utils.py: trim_blocks=True, lstrip_blocks=True, keep_trailing_newline off).
/// The rules follow pallets/jinja src/jinja2/lexer.py:
/// <list type="bullet">
/// <item>newlines are normalized to "\n" and one trailing newline of the source is dropped;</item>
/// <item><c>{%-</c>, <c>{{-</c>, <c>{#-</c> strip all whitespace before the tag; <c>-%}</c>, <c>-}}</c>,
/// <c>-#}</c> all whitespace after it;</item>
/// <item>trim_blocks: the first newline after a block or comment tag (not after <c>}}</c>) is removed,
/// unless the tag ends with <c>+%}</c>;</item>
/// <item>lstrip_blocks: spaces and tabs between the start of a line and a block or comment tag are
/// removed (not before <c>{{</c>), unless the tag starts with <c>{%+</c>.</item>
/// </list>
/// Inside tags it produces names, numbers, strings (with Python escapes) and operators; a closing
/// <c>}}</c> or <c>%}</c> counts only outside brackets, so dict literals work.
/// </summary>
internal sealed class Lexer
{
    // Longest first, so "//" wins over "/" and "**" over "*".
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ".", ":", ",", "|", ";"];

    private readonly string _src;
    private readonly List<Token> _tokens = [];
    private readonly int[] _lineStarts;
    private int _pos;

    private Lexer(string source)
    {
        _src = NormalizeNewlines(source);
        var starts = new List<int> { 0 };
        for (var i = 0; i < _src.Length; i++)
            if (_src[i] == '\n') starts.Add(i + 1);
        _lineStarts = starts.ToArray();
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private static string NormalizeNewlines(string source)
    {
        var s = source.Replace("\r\n", "\n").Replace('\r', '\n');
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    private int LineAt(int index)
    {
        var i = Array.BinarySearch(_lineStarts, index);
        return (i >= 0 ? i : ~i - 1) + 1;
    }

    private ChatTemplateException Fail(string message, int at) => new(message, LineAt(at));

    private void Run()
    {
        var lineStarting = true; // Jinja's line_starting: the previous match ended with a newline
        while (_pos < _src.Length)
        {
            var start = NextTagStart(_pos);
            if (start < 0)
            {
                AddText(_src[_pos..], _pos);
                _pos = _src.Length;
                break;
            }
            var kind = _src[start + 1];
            var sign = start + 2 < _src.Length ? _src[start + 2] : '\0';
            var text = _src[_pos..start];
            if (sign == '-') text = text.TrimEnd();
            else if (sign != '+' && kind != '{') text = LStripBlock(text, lineStarting);
            AddText(text, _pos);
            var afterBegin = start + 2 + (sign is '-' or '+' ? 1 : 0);
            switch (kind)
            {
                case '#':
                    lineStarting = LexComment(start, afterBegin);
                    break;
                case '{':
                    _tokens.Add(new Token(TokenKind.VariableBegin, "{{", LineAt(start)));
                    lineStarting = LexTag(afterBegin, isBlock: false);
                    break;
                default:
                    if (TryLexRaw(start, afterBegin, out var rawLineStarting)) lineStarting = rawLineStarting;
                    else
                    {
                        _tokens.Add(new Token(TokenKind.BlockBegin, "{%", LineAt(start)));
                        lineStarting = LexTag(afterBegin, isBlock: true);
                    }
                    break;
            }
        }
        _tokens.Add(new Token(TokenKind.End, "", LineAt(_src.Length)));
    }

    private int NextTagStart(int from)
    {
        for (var i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
            if (_src[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    private void AddText(string text, int at)
    {
        if (text.Length > 0) _tokens.Add(new Token(TokenKind.Text, text, LineAt(at)));
    }

    /// <summary>lstrip_blocks: drop the spaces and tabs that are all that precedes the tag on its line.</summary>
    private static string LStripBlock(string text, bool lineStarting)
    {
        var lineStart = text.LastIndexOf('\n') + 1;
        if (lineStart == 0 && !lineStarting) return text;
        for (var i = lineStart; i < text.Length; i++)
            if (!char.IsWhiteSpace(text[i])) return text;
        return text[..lineStart];
    }

    /// <summary>Consumes what follows a tag end: all whitespace after '-', one newline (trim_blocks) for block ends.</summary>
    private bool ConsumeAfterEnd(char sign, bool trimBlocks)
    {
        var consumedNewline = false;
        if (sign == '-')
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) consumedNewline = _src[_pos++] == '\n';
        }
        else if (sign != '+' && trimBlocks && _pos < _src.Length && _src[_pos] == '\n')
        {
            _pos++;
            consumedNewline = true;
        }
        return consumedNewline;
    }

    private bool LexComment(int start, int afterBegin)
    {
        for (var i = afterBegin; i + 1 < _src.Length; i++)
        {
            if (_src[i] is '-' or '+' && i + 2 < _src.Length && _src[i + 1] == '#' && _src[i + 2] == '}')
            {
                _pos = i + 3;
                return ConsumeAfterEnd(_src[i], trimBlocks: true);
            }
            if (_src[i] == '#' && _src[i + 1] == '}')
            {
                _pos = i + 2;
                return ConsumeAfterEnd('\0', trimBlocks: true);
            }
        }
        throw Fail("the comment '{#' is never closed with '#}'", start);
    }

    /// <summary><c>{% raw %}…{% endraw %}</c>: the body is template text, tags inside it are not interpreted.</summary>
    private bool TryLexRaw(int start, int afterBegin, out bool lineStarting)
    {
        lineStarting = false;
        var p = SkipSpaces(afterBegin);
        if (!IsWordAt(p, "raw")) return false;
        p = SkipSpaces(p + 3);
        char beginSign;
        if (At(p, "-%}")) { beginSign = '-'; p += 3; }
        else if (At(p, "%}")) { beginSign = '\0'; p += 2; }
        else return false;
        _pos = p;
        // Jinja's raw_begin rule has no trim_blocks suffix: only '-%}' consumes what follows.
        var bodyLineStarting = ConsumeAfterEnd(beginSign, trimBlocks: false);
        var bodyStart = _pos;
        for (var i = _src.IndexOf("{%", bodyStart, StringComparison.Ordinal); i >= 0; i = _src.IndexOf("{%", i + 2, StringComparison.Ordinal))
        {
            var sign = i + 2 < _src.Length ? _src[i + 2] : '\0';
            var q = SkipSpaces(i + 2 + (sign is '-' or '+' ? 1 : 0));
            if (!IsWordAt(q, "endraw")) continue;
            q = SkipSpaces(q + 6);
            char endSign;
            if (At(q, "-%}")) { endSign = '-'; q += 3; }
            else if (At(q, "+%}")) { endSign = '+'; q += 3; }
            else if (At(q, "%}")) { endSign = '\0'; q += 2; }
            else continue;
            var body = _src[bodyStart..i];
            if (sign == '-') body = body.TrimEnd();
            else if (sign != '+') body = LStripBlock(body, bodyLineStarting);
            AddText(body, bodyStart);
            _pos = q;
            lineStarting = ConsumeAfterEnd(endSign, trimBlocks: true);
            return true;
        }
        throw Fail("'{% raw %}' is never closed with '{% endraw %}'", start);
    }

    private bool LexTag(int from, bool isBlock)
    {
        _pos = from;
        var depth = 0;
        var tagStart = from;
        while (true)
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) _pos++;
            if (_pos >= _src.Length)
                throw Fail(isBlock ? "a '{%' tag is never closed with '%}'" : "a '{{' tag is never closed with '}}'", tagStart);
            if (depth == 0 && TryTagEnd(isBlock, out var lineStarting)) return lineStarting;
            var c = _src[_pos];
            var line = LineAt(_pos);
            if (char.IsLetter(c) || c == '_')
            {
                var s = _pos;
                while (_pos < _src.Length && (char.IsLetterOrDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
                _tokens.Add(new Token(TokenKind.Name, _src[s.._pos], line));
            }
            else if (char.IsAsciiDigit(c)) LexNumber(line);
            else if (c is '\'' or '"') LexString(line);
            else
            {
                var op = Operators.FirstOrDefault(o => At(_pos, o))
                    ?? throw Fail($"unexpected character '{c}' inside a tag", _pos);
                if (op is "(" or "[" or "{") depth++;
                else if (op is ")" or "]" or "}") depth = Math.Max(0, depth - 1);
                _tokens.Add(new Token(TokenKind.Operator, op, line));
                _pos += op.Length;
            }
        }
    }

    private bool TryTagEnd(bool isBlock, out bool lineStarting)
    {
        lineStarting = false;
        var close = isBlock ? "%}" : "}}";
        char sign;
        int length;
        if (At(_pos, "-" + close)) { sign = '-'; length = 3; }
        else if (isBlock && At(_pos, "+" + close)) { sign = '+'; length = 3; }
        else if (At(_pos, close)) { sign = '\0'; length = 2; }
        else return false;
        _tokens.Add(new Token(isBlock ? TokenKind.BlockEnd : TokenKind.VariableEnd, close, LineAt(_pos)));
        _pos += length;
        lineStarting = ConsumeAfterEnd(sign, trimBlocks: isBlock);
        return true;
    }

    private void LexNumber(int line)
    {
        var s = _pos;
        SkipDigits();
        var isFloat = false;
        // Jinja's float rule does not apply right after a '.', so "foo.0.1" is two item lookups.
        var afterDot = _tokens.Count > 0 && _tokens[^1].IsOperator(".");
        if (!afterDot && _pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            _pos++;
            SkipDigits();
            isFloat = true;
        }
        if (!afterDot && _pos < _src.Length && _src[_pos] is 'e' or 'E')
        {
            var e = _pos + 1;
            if (e < _src.Length && _src[e] is '+' or '-') e++;
            if (e < _src.Length && char.IsAsciiDigit(_src[e]))
            {
                _pos = e;
                SkipDigits();
                isFloat = true;
            }
        }
        var text = _src[s.._pos];
        var clean = text.Replace("_", "");
        if (isFloat)
            _tokens.Add(new Token(TokenKind.Float, text, line, double.Parse(clean, NumberStyles.Float, CultureInfo.InvariantCulture)));
        else if (long.TryParse(clean, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
            _tokens.Add(new Token(TokenKind.Integer, text, line, l));
        else
            _tokens.Add(new Token(TokenKind.Integer, text, line, double.Parse(clean, CultureInfo.InvariantCulture)));
    }

    private void SkipDigits()
    {
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || (_src[_pos] == '_' && _pos + 1 < _src.Length && char.IsAsciiDigit(_src[_pos + 1]))))
            _pos++;
    }

    /// <summary>A quoted string with Python's escapes (Jinja decodes string literals with "unicode-escape").</summary>
    private void LexString(int line)
    {
        var quote = _src[_pos];
        var start = _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length) throw Fail("a string literal is never closed", start);
            var c = _src[_pos++];
            if (c == quote) break;
            if (c != '\\') { sb.Append(c); continue; }
            if (_pos >= _src.Length) throw Fail("a string literal is never closed", start);
            var e = _src[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '\n': break; // a backslash-newline continues the line
                case 'x': AppendCodePoint(sb, ReadHex(2, start)); break;
                case 'u': AppendCodePoint(sb, ReadHex(4, start)); break;
                case 'U': AppendCodePoint(sb, ReadHex(8, start)); break;
                case >= '0' and <= '7':
                    var value = e - '0';
                    for (var k = 0; k < 2 && _pos < _src.Length && _src[_pos] is >= '0' and <= '7'; k++) value = value * 8 + (_src[_pos++] - '0');
                    AppendCodePoint(sb, value);
                    break;
                default: sb.Append('\\').Append(e); break; // Python keeps unknown escapes as they are
            }
        }
        _tokens.Add(new Token(TokenKind.String, sb.ToString(), line, sb.ToString()));
    }

    private int ReadHex(int digits, int stringStart)
    {
        if (_pos + digits > _src.Length || !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v))
            throw Fail($"a string literal has a malformed \\x/\\u escape", stringStart);
        _pos += digits;
        return v;
    }

    private void AppendCodePoint(StringBuilder sb, int cp)
    {
        if (cp is < 0 or > 0x10FFFF) throw Fail("a string literal has an escape outside Unicode", _pos);
        if (cp is >= 0xD800 and <= 0xDFFF) sb.Append('\uFFFD');
        else sb.Append(char.ConvertFromUtf32(cp));
    }

    private int SkipSpaces(int p)
    {
        while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
        return p;
    }

    private bool At(int p, string s) => p >= 0 && p + s.Length <= _src.Length && string.CompareOrdinal(_src, p, s, 0, s.Length) == 0;

    private bool IsWordAt(int p, string word) =>
        At(p, word) && (p + word.Length >= _src.Length || !(char.IsLetterOrDigit(_src[p + word.Length]) || _src[p + word.Length] == '_'));
}
