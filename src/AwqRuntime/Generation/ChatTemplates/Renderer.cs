using System.Text;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// Executes a parsed template. Scoping follows Jinja: every for-loop iteration, macro call and with
/// block gets its own scope (a <c>set</c> inside a loop is gone after it, which is what
/// <c>namespace()</c> is for); if blocks share the enclosing scope. Output of <c>{{ … }}</c> is
/// Python's str() of the value, and an undefined value prints nothing.
/// </summary>
internal sealed class Renderer
{
    private const int MaxOutputChars = 64 << 20;
    private const int MaxCallDepth = 200;

    private int _line;
    private int _depth;

    public Renderer(DateTime? now) => Now = now;

    /// <summary>What strftime_now formats; null reads the clock.</summary>
    public DateTime? Now { get; }

    public int CurrentLine => _line;

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    public string Render(IReadOnlyList<Stmt> body, Scope scope)
    {
        var output = new StringBuilder();
        try
        {
            Execute(body, scope, output);
        }
        catch (TemplateError e)
        {
            throw new ChatTemplateException(e.Message, _line, e);
        }
        return output.ToString();
    }

    private Flow Execute(IReadOnlyList<Stmt> body, Scope scope, StringBuilder output)
    {
        foreach (var stmt in body)
        {
            _line = stmt.Line;
            switch (stmt)
            {
                case TextStmt t:
                    output.Append(t.Text);
                    break;
                case OutputStmt o:
                    output.Append(PyOps.Str(Eval(o.Value, scope)));
                    break;
                case IfStmt i:
                    var taken = false;
                    foreach (var (test, branch) in i.Branches)
                    {
                        if (!PyOps.Truthy(Eval(test, scope))) continue;
                        taken = true;
                        var flow = Execute(branch, scope, output);
                        if (flow != Flow.Normal) return flow;
                        break;
                    }
                    if (!taken && i.Else != null)
                    {
                        var flow = Execute(i.Else, scope, output);
                        if (flow != Flow.Normal) return flow;
                    }
                    break;
                case ForStmt f:
                    ExecuteFor(f, scope, output);
                    break;
                case SetStmt s:
                    Assign(s.Target, Eval(s.Value, scope), scope);
                    break;
                case SetBlockStmt sb:
                    var captured = new StringBuilder();
                    Execute(sb.Body, scope, captured);
                    Assign(sb.Target, ApplyFilters(sb.Filters, captured.ToString(), scope), scope);
                    break;
                case MacroStmt m:
                    scope.Set(m.Name, new Macro(m.Name, m.Parameters, m.Body, scope, this));
                    break;
                case CallBlockStmt c:
                    var caller = new Macro("caller", c.CallerParameters, c.Body, scope, this);
                    var callee = Eval(c.Call.Callee, scope);
                    var args = EvalArgs(c.Call.Args, scope, CalleeName(callee));
                    args.Keywords.Add(("caller", caller));
                    output.Append(PyOps.Str(Call(callee, args)));
                    break;
                case FilterBlockStmt fb:
                    var inner = new StringBuilder();
                    Execute(fb.Body, new Scope(scope), inner);
                    output.Append(PyOps.Str(ApplyFilters(fb.Filters, inner.ToString(), scope)));
                    break;
                case WithStmt w:
                    var withScope = new Scope(scope);
                    foreach (var (name, value) in w.Assignments) withScope.Set(name, Eval(value, scope));
                    var withFlow = Execute(w.Body, withScope, output);
                    if (withFlow != Flow.Normal) return withFlow;
                    break;
                case BreakStmt:
                    return Flow.Break;
                case ContinueStmt:
                    return Flow.Continue;
                default:
                    throw new TemplateError($"unsupported statement {stmt.GetType().Name}");
            }
            if (output.Length > MaxOutputChars) throw new TemplateError($"the rendered text is over {MaxOutputChars} characters");
        }
        return Flow.Normal;
    }

    private void ExecuteFor(ForStmt f, Scope scope, StringBuilder output)
    {
        var iterable = Eval(f.Iterable, scope);
        if (iterable is null) throw new TemplateError("'NoneType' object is not iterable");
        var items = PyOps.Iterate(iterable);
        if (f.Filter != null)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                var test = new Scope(scope);
                Bind(f.Targets, f.Unpack, item, test);
                if (PyOps.Truthy(Eval(f.Filter, test))) kept.Add(item);
            }
            items = kept;
        }
        for (var i = 0; i < items.Count; i++)
        {
            var iteration = new Scope(scope);
            Bind(f.Targets, f.Unpack, items[i], iteration);
            iteration.Set("loop", new LoopContext(items, i));
            var flow = Execute(f.Body, iteration, output);
            _line = f.Line;
            if (flow == Flow.Break) break;
        }
        if (items.Count == 0 && f.Else != null) Execute(f.Else, new Scope(scope), output);
    }

    private static void Bind(IReadOnlyList<string> names, bool unpack, object? value, Scope scope)
    {
        if (!unpack)
        {
            scope.Set(names[0], value);
            return;
        }
        if (value is not (List<object?> or object?[] or string)) throw new TemplateError($"cannot unpack a '{PyOps.TypeName(value)}' into {names.Count} names");
        var parts = PyOps.Iterate(value);
        if (parts.Count != names.Count)
            throw new TemplateError($"cannot unpack {parts.Count} values into {names.Count} names ({string.Join(", ", names)})");
        for (var i = 0; i < names.Count; i++) scope.Set(names[i], parts[i]);
    }

    private static void Assign(AssignTarget target, object? value, Scope scope)
    {
        if (target.Attribute is { } attribute)
        {
            var owner = scope.Lookup(target.Names[0]);
            if (owner is not Namespace ns)
                throw new TemplateError($"cannot assign attribute '{attribute}' on '{target.Names[0]}', which is not a namespace()");
            ns.Attributes[attribute] = value;
            return;
        }
        Bind(target.Names, target.Unpack, value, scope);
    }

    private object? ApplyFilters(IReadOnlyList<FilterCall> filters, object? value, Scope scope)
    {
        foreach (var f in filters) value = Filters.Apply(this, f.Name, value, EvalArgs(f.Args, scope, $"filter '{f.Name}'"));
        return value;
    }

    // ---- expressions ----

    public object? Eval(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case ConstExpr c: return c.Value;
            case NameExpr n: return scope.Lookup(n.Name);
            case ListExpr l: return l.Items.Select(x => Eval(x, scope)).ToList();
            case TupleExpr t: return t.Items.Select(x => Eval(x, scope)).ToArray();
            case DictExpr d:
                var dict = new DictValue();
                foreach (var (k, v) in d.Pairs) dict[DictValue.KeyOf(Eval(k, scope))] = Eval(v, scope);
                return dict;
            case AttrExpr a: return Members.GetAttr(Eval(a.Target, scope), a.Name);
            case ItemExpr i: return Members.GetItem(Eval(i.Target, scope), Eval(i.Key, scope));
            case SliceExpr s:
                return Members.Slice(Eval(s.Target, scope), EvalOptional(s.Start, scope), EvalOptional(s.Stop, scope), EvalOptional(s.Step, scope));
            case CallExpr call:
                var callee = Eval(call.Callee, scope);
                return Call(callee, EvalArgs(call.Args, scope, CalleeName(callee)));
            case FilterExpr f:
                return Filters.Apply(this, f.Name, Eval(f.Value, scope), EvalArgs(f.Args, scope, $"filter '{f.Name}'"));
            case TestExpr t:
                var passed = TestFunctions.Apply(this, t.Name, Eval(t.Value, scope), EvalArgs(t.Args, scope, $"test '{t.Name}'"));
                return passed != t.Negated;
            case UnaryExpr u:
                var operand = Eval(u.Operand, scope);
                return u.Op switch
                {
                    "not" => !PyOps.Truthy(operand),
                    "-" => PyOps.Negate(operand),
                    _ => PyOps.Plus(operand),
                };
            case BinaryExpr b:
                switch (b.Op)
                {
                    case "and":
                        var left = Eval(b.Left, scope);
                        return PyOps.Truthy(left) ? Eval(b.Right, scope) : left;
                    case "or":
                        var l2 = Eval(b.Left, scope);
                        return PyOps.Truthy(l2) ? l2 : Eval(b.Right, scope);
                    case "~":
                        return PyOps.Str(Eval(b.Left, scope)) + PyOps.Str(Eval(b.Right, scope));
                    default:
                        return PyOps.Arithmetic(b.Op, Eval(b.Left, scope), Eval(b.Right, scope));
                }
            case CompareExpr c:
                var current = Eval(c.First, scope);
                foreach (var (op, operandExpr) in c.Rest)
                {
                    var next = Eval(operandExpr, scope);
                    var ok = op switch
                    {
                        "==" => PyOps.Equal(current, next),
                        "!=" => !PyOps.Equal(current, next),
                        "<" => PyOps.Compare(current, next, op) < 0,
                        "<=" => PyOps.Compare(current, next, op) <= 0,
                        ">" => PyOps.Compare(current, next, op) > 0,
                        ">=" => PyOps.Compare(current, next, op) >= 0,
                        "in" => PyOps.Contains(next, current),
                        _ => !PyOps.Contains(next, current),
                    };
                    if (!ok) return false;
                    current = next;
                }
                return true;
            case CondExpr c:
                if (PyOps.Truthy(Eval(c.Test, scope))) return Eval(c.Then, scope);
                return c.Else is null ? Undefined.Because("the conditional expression had no else branch") : Eval(c.Else, scope);
            default:
                throw new TemplateError($"unsupported expression {expr.GetType().Name}");
        }
    }

    private object? EvalOptional(Expr? e, Scope scope) => e is null ? null : Eval(e, scope);

    private CallArgs EvalArgs(Arguments args, Scope scope, string callee) =>
        new(args.Positional.Select(x => Eval(x, scope)).ToList(), args.Keywords.Select(k => (k.Name, Eval(k.Value, scope))).ToList(), callee);

    private static string CalleeName(object? callee) => callee is ICallable c ? c.Name : PyOps.TypeName(callee);

    public object? Call(object? callee, CallArgs args)
    {
        if (callee is Undefined u) throw u.Fail();
        if (callee is not ICallable c) throw new TemplateError($"'{PyOps.TypeName(callee)}' object is not callable");
        if (++_depth > MaxCallDepth) throw new TemplateError($"calls nest deeper than {MaxCallDepth} levels");
        var line = _line;
        try
        {
            return c.Call(this, args);
        }
        finally
        {
            _depth--;
            _line = line;
        }
    }

    /// <summary>A <c>{% macro %}</c> (or the body of a call block, as <c>caller</c>): renders its body and returns the text.</summary>
    private sealed class Macro(string name, IReadOnlyList<MacroParameter> parameters, IReadOnlyList<Stmt> body, Scope closure, Renderer owner) : ICallable
    {
        public string Name { get; } = name;

        public object? Call(Renderer renderer, CallArgs args)
        {
            var scope = new Scope(closure);
            if (args.Positional.Count > parameters.Count)
                throw new TemplateError($"macro '{Name}' takes not more than {parameters.Count} argument(s)");
            for (var i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                if (i < args.Positional.Count) scope.Set(p.Name, args.Positional[i]);
                else if (args.Keywords.Any(k => k.Name == p.Name)) scope.Set(p.Name, args.Keywords.Last(k => k.Name == p.Name).Value);
                else scope.Set(p.Name, p.Default is null ? Undefined.Named(p.Name) : owner.Eval(p.Default, scope));
            }
            foreach (var (n, v) in args.Keywords)
            {
                if (n == "caller") scope.Set("caller", v);
                else if (parameters.All(p => p.Name != n)) throw new TemplateError($"macro '{Name}' takes no keyword argument '{n}'");
            }
            var output = new StringBuilder();
            owner.Execute(body, scope, output);
            return output.ToString();
        }
    }
}
