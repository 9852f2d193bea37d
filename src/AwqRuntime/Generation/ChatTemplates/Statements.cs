namespace AwqRuntime.Generation.ChatTemplates;

// The statement nodes of a parsed template (Jinja's nodes.Stmt): text, output, and the block tags
// chat templates use.

internal abstract record Stmt(int Line);

internal sealed record TextStmt(string Text, int Line) : Stmt(Line);

/// <summary><c>{{ expr }}</c>.</summary>
internal sealed record OutputStmt(Expr Value, int Line) : Stmt(Line);

internal sealed record IfStmt(IReadOnlyList<(Expr Test, IReadOnlyList<Stmt> Body)> Branches, IReadOnlyList<Stmt>? Else, int Line) : Stmt(Line);

/// <summary><c>{% for a, b in iter if filter %}…{% else %}…{% endfor %}</c>.</summary>
internal sealed record ForStmt(IReadOnlyList<string> Targets, bool Unpack, Expr Iterable, Expr? Filter,
    IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt>? Else, int Line) : Stmt(Line);

/// <summary>An assignment target: a name, several names (tuple unpacking), or <c>namespace.attribute</c>.</summary>
internal sealed record AssignTarget(IReadOnlyList<string> Names, bool Unpack, string? Attribute)
{
    public string Describe() => Attribute is null ? string.Join(", ", Names) : $"{Names[0]}.{Attribute}";
}

/// <summary><c>{% set target = value %}</c>.</summary>
internal sealed record SetStmt(AssignTarget Target, Expr Value, int Line) : Stmt(Line);

/// <summary><c>{% set name | filters %}body{% endset %}</c>.</summary>
internal sealed record SetBlockStmt(AssignTarget Target, IReadOnlyList<FilterCall> Filters, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

/// <summary>One filter of a filter chain without its operand (for set and filter blocks).</summary>
internal sealed record FilterCall(string Name, Arguments Args, int Line);

internal sealed record MacroParameter(string Name, Expr? Default);

internal sealed record MacroStmt(string Name, IReadOnlyList<MacroParameter> Parameters, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

/// <summary><c>{% call(params) macro(args) %}body{% endcall %}</c>: the macro can render the body with <c>caller()</c>.</summary>
internal sealed record CallBlockStmt(CallExpr Call, IReadOnlyList<MacroParameter> CallerParameters, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

/// <summary><c>{% filter name(args) %}body{% endfilter %}</c>.</summary>
internal sealed record FilterBlockStmt(IReadOnlyList<FilterCall> Filters, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

/// <summary><c>{% with a = 1 %}body{% endwith %}</c>: the assignments are visible in the body only.</summary>
internal sealed record WithStmt(IReadOnlyList<(string Name, Expr Value)> Assignments, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record BreakStmt(int Line) : Stmt(Line);

internal sealed record ContinueStmt(int Line) : Stmt(Line);
