namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// The global functions a chat template can call: Jinja's range, dict and namespace, and the two
/// transformers adds (utils/chat_template_utils.py): raise_exception(message) and strftime_now(format).
/// </summary>
internal static class Globals
{
    /// <summary>Jinja's sandbox refuses ranges longer than this (MAX_RANGE in jinja2/sandbox.py).</summary>
    private const long MaxRange = 100_000;

    public static Scope Create()
    {
        var scope = new Scope();
        scope.Set("range", new BuiltinFunction("range", (_, a) => Range(a.Check(3))));
        scope.Set("namespace", new BuiltinFunction("namespace", (_, a) =>
        {
            var ns = new Namespace();
            foreach (var p in a.Positional)
            {
                if (p is not DictValue d) throw new TemplateError("namespace() takes keyword arguments or a dict");
                foreach (var (k, v) in d) ns.Attributes[PyOps.Str(DictValue.FromKey(k))] = v;
            }
            foreach (var (k, v) in a.Keywords) ns.Attributes[k] = v;
            return ns;
        }));
        scope.Set("dict", new BuiltinFunction("dict", (_, a) =>
        {
            var d = new DictValue();
            if (a.Positional.Count > 1) throw new TemplateError($"dict expected at most 1 argument, got {a.Positional.Count}");
            foreach (var p in a.Positional)
            {
                if (p is not DictValue src) throw new TemplateError("dict() takes keyword arguments or a dict");
                foreach (var (k, v) in src) d[k] = v;
            }
            foreach (var (k, v) in a.Keywords) d[k] = v;
            return d;
        }));
        scope.Set("raise_exception", new BuiltinFunction("raise_exception", (r, a) =>
            throw new ChatTemplateRaisedException(PyOps.Str(a.Check(1).Get(0, "message", "")), r.CurrentLine)));
        scope.Set("strftime_now", new BuiltinFunction("strftime_now", (r, a) =>
            Strftime.Format(r.Now ?? DateTime.Now, Members.AsString(a.Check(1).Get(0, "format"), "strftime_now"))));
        return scope;
    }

    private static List<object?> Range(CallArgs a)
    {
        if (a.Positional.Count == 0) throw new TemplateError("range expected at least 1 argument, got 0");
        long start = 0, step = 1, stop;
        if (a.Positional.Count == 1) stop = PyOps.AsLong(a.Positional[0]);
        else
        {
            start = PyOps.AsLong(a.Positional[0]);
            stop = PyOps.AsLong(a.Positional[1]);
            if (a.Positional.Count == 3) step = PyOps.AsLong(a.Positional[2]);
        }
        if (step == 0) throw new TemplateError("range() arg 3 must not be zero");
        var count = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
        if (count > MaxRange) throw new TemplateError($"range is too big (more than {MaxRange} items)");
        var list = new List<object?>((int)Math.Max(0, count));
        for (var i = start; step > 0 ? i < stop : i > stop; i += step) list.Add(i);
        return list;
    }
}
