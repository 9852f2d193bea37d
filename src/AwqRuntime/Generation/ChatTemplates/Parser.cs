namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// Builds statement and expression trees from the lexer's tokens. Operator precedence and the
/// grammar follow pallets/jinja src/jinja2/parser.py: conditional expression &lt; or &lt; and &lt; not
/// &lt; comparisons (chained, in, not in) &lt; + - &lt; ~ &lt; * / // % &lt; ** &lt; unary - + &lt; postfix
/// (.attr, [item], [slice], call) with filters (|) and tests (is) binding tighter than every binary
/// operator. Unknown filters, tests and tags are rejected here, before anything renders.
/// </summary>
internal sealed class Parser
{
    private readonly List<Token> _tokens;
    private int _i;
    private int _loopDepth;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static IReadOnlyList<Stmt> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        var body = parser.ParseBody([]);
        return body;
    }

    private Token Current => _tokens[_i];

    private Token Peek(int ahead = 1) => _tokens[Math.Min(_i + ahead, _tokens.Count - 1)];

    private Token Next() => _tokens[_i++];

    private static ChatTemplateException Fail(string message, Token at) => new(message, at.Line);

    private Token Expect(TokenKind kind, string? value, string what)
    {
        var t = Current;
        if (t.Kind != kind || (value != null && t.Value != value)) throw Fail($"expected {what}, found {t.Describe()}", t);
        _i++;
        return t;
    }

    private void ExpectOperator(string op) => Expect(TokenKind.Operator, op, $"'{op}'");

    private bool SkipOperator(string op)
    {
        if (!Current.IsOperator(op)) return false;
        _i++;
        return true;
    }

    private bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        _i++;
        return true;
    }

    private string ExpectName(string what) => Expect(TokenKind.Name, null, what).Value;

    // ---- statements ----

    /// <summary>Statements up to one of <paramref name="endTags"/> (left unconsumed, after its '{%'), or the end.</summary>
    private List<Stmt> ParseBody(string[] endTags)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case TokenKind.End:
                    if (endTags.Length > 0)
                        throw Fail($"the template ends before '{{% {endTags[^1]} %}}'", t);
                    return body;
                case TokenKind.Text:
                    _i++;
                    body.Add(new TextStmt(t.Value, t.Line));
                    break;
                case TokenKind.VariableBegin:
                    _i++;
                    var value = ParseTuple();
                    Expect(TokenKind.VariableEnd, null, "'}}'");
                    body.Add(new OutputStmt(value, t.Line));
                    break;
                case TokenKind.BlockBegin:
                    var tag = Peek();
                    if (tag.Kind == TokenKind.Name && endTags.Contains(tag.Value))
                    {
                        _i++; // '{%'; the caller consumes the tag name
                        return body;
                    }
                    _i++;
                    var stmt = ParseStatement();
                    if (stmt != null) body.Add(stmt);
                    break;
                default:
                    throw Fail($"unexpected {t.Describe()}", t);
            }
        }
    }

    private void EndTag() => Expect(TokenKind.BlockEnd, null, "'%}'");

    private Stmt? ParseStatement()
    {
        var t = Current;
        if (t.Kind != TokenKind.Name) throw Fail($"expected a tag name after '{{%', found {t.Describe()}", t);
        _i++;
        switch (t.Value)
        {
            case "if": return ParseIf(t);
            case "for": return ParseFor(t);
            case "set": return ParseSet(t);
            case "macro": return ParseMacro(t);
            case "call": return ParseCallBlock(t);
            case "filter": return ParseFilterBlock(t);
            case "with": return ParseWith(t);
            case "generation":
                // transformers' AssistantTracker extension: renders its body, marking assistant text.
                EndTag();
                var body = ParseBody(["endgeneration"]);
                Expect(TokenKind.Name, "endgeneration", "'endgeneration'");
                EndTag();
                // A call block in transformers, so the body has its own scope, like a with block.
                return new WithStmt([], body, t.Line);
            case "break" or "continue":
                if (_loopDepth == 0) throw Fail($"'{t.Value}' outside a for loop", t);
                EndTag();
                return t.Value == "break" ? new BreakStmt(t.Line) : new ContinueStmt(t.Line);
            case "include" or "import" or "from" or "extends" or "block" or "do" or "autoescape" or "trans":
                throw Fail($"unsupported tag '{t.Value}'", t);
            case "elif" or "else" or "endif" or "endfor" or "endset" or "endmacro" or "endcall" or "endfilter" or "endwith" or "endgeneration" or "endraw":
                throw Fail($"unexpected '{{% {t.Value} %}}' (no block is open that it could close)", t);
            default:
                throw Fail($"unknown tag '{t.Value}'", t);
        }
    }

    private Stmt ParseIf(Token tag)
    {
        var branches = new List<(Expr, IReadOnlyList<Stmt>)>();
        var test = ParseTuple(withCondExpr: false);
        EndTag();
        while (true)
        {
            var body = ParseBody(["elif", "else", "endif"]);
            branches.Add((test, body));
            var which = Next();
            if (which.Value == "elif")
            {
                test = ParseTuple(withCondExpr: false);
                EndTag();
                continue;
            }
            if (which.Value == "else")
            {
                EndTag();
                var elseBody = ParseBody(["endif"]);
                Next();
                EndTag();
                return new IfStmt(branches, elseBody, tag.Line);
            }
            EndTag();
            return new IfStmt(branches, null, tag.Line);
        }
    }

    private Stmt ParseFor(Token tag)
    {
        var target = ParseAssignTarget(allowNamespace: false, endName: "in");
        Expect(TokenKind.Name, "in", "'in'");
        var iterable = ParseTuple(withCondExpr: false, endName: "recursive");
        Expr? filter = null;
        if (SkipName("if")) filter = ParseExpression();
        if (Current.IsName("recursive")) throw Fail("unsupported recursive for loop", Current);
        EndTag();
        _loopDepth++;
        var body = ParseBody(["else", "endfor"]);
        _loopDepth--;
        List<Stmt>? elseBody = null;
        if (Next().Value == "else")
        {
            EndTag();
            elseBody = ParseBody(["endfor"]);
            Next();
        }
        EndTag();
        return new ForStmt(target.Names, target.Unpack, iterable, filter, body, elseBody, tag.Line);
    }

    private Stmt ParseSet(Token tag)
    {
        var target = ParseAssignTarget(allowNamespace: true, endName: null);
        if (SkipOperator("="))
        {
            var value = ParseTuple();
            EndTag();
            return new SetStmt(target, value, tag.Line);
        }
        if (target.Unpack || target.Attribute != null) throw Fail("a block set assigns a single name", tag);
        var filters = new List<FilterCall>();
        while (SkipOperator("|")) filters.Add(ParseFilterCall());
        EndTag();
        var body = ParseBody(["endset"]);
        Next();
        EndTag();
        return new SetBlockStmt(target, filters, body, tag.Line);
    }

    private Stmt ParseMacro(Token tag)
    {
        var name = ExpectName("a macro name");
        var parameters = ParseParameters();
        EndTag();
        var saved = _loopDepth;
        _loopDepth = 0;
        var body = ParseBody(["endmacro"]);
        _loopDepth = saved;
        Next();
        EndTag();
        return new MacroStmt(name, parameters, body, tag.Line);
    }

    private List<MacroParameter> ParseParameters()
    {
        var parameters = new List<MacroParameter>();
        ExpectOperator("(");
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0) ExpectOperator(",");
            if (Current.IsOperator(")")) break;
            var name = ExpectName("a parameter name");
            var def = SkipOperator("=") ? ParseExpression() : null;
            parameters.Add(new MacroParameter(name, def));
        }
        ExpectOperator(")");
        return parameters;
    }

    private Stmt ParseCallBlock(Token tag)
    {
        var callerParameters = Current.IsOperator("(") ? ParseParameters() : [];
        var call = ParseExpression() as CallExpr ?? throw Fail("'{% call %}' needs a macro call", tag);
        EndTag();
        var body = ParseBody(["endcall"]);
        Next();
        EndTag();
        return new CallBlockStmt(call, callerParameters, body, tag.Line);
    }

    private Stmt ParseFilterBlock(Token tag)
    {
        var filters = new List<FilterCall> { ParseFilterCall() };
        while (SkipOperator("|")) filters.Add(ParseFilterCall());
        EndTag();
        var body = ParseBody(["endfilter"]);
        Next();
        EndTag();
        return new FilterBlockStmt(filters, body, tag.Line);
    }

    private Stmt ParseWith(Token tag)
    {
        var assignments = new List<(string, Expr)>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (assignments.Count > 0) ExpectOperator(",");
            var name = ExpectName("a variable name");
            ExpectOperator("=");
            assignments.Add((name, ParseExpression()));
        }
        EndTag();
        var body = ParseBody(["endwith"]);
        Next();
        EndTag();
        return new WithStmt(assignments, body, tag.Line);
    }

    /// <summary>A name, <c>a, b</c> / <c>(a, b)</c>, or (for set) <c>ns.attr</c>.</summary>
    private AssignTarget ParseAssignTarget(bool allowNamespace, string? endName)
    {
        if (allowNamespace && Current.Kind == TokenKind.Name && Peek().IsOperator("."))
        {
            var ns = Next().Value;
            _i++;
            return new AssignTarget([ns], false, ExpectName("an attribute name"));
        }
        var parens = SkipOperator("(");
        var names = new List<string>();
        var unpack = parens;
        while (true)
        {
            var t = Current;
            if (t.Kind != TokenKind.Name || t.Value is "true" or "false" or "none" or "True" or "False" or "None")
                throw Fail($"cannot assign to {t.Describe()}", t);
            names.Add(Next().Value);
            if (!SkipOperator(",")) break;
            unpack = true;
            if (Current.IsOperator(")") || Current.IsOperator("=") || Current.Kind == TokenKind.BlockEnd || (endName != null && Current.IsName(endName))) break;
        }
        if (parens) ExpectOperator(")");
        return new AssignTarget(names, unpack, null);
    }

    // ---- expressions ----

    /// <summary>An expression, or several separated by commas (a tuple), as Jinja's parse_tuple.</summary>
    private Expr ParseTuple(bool withCondExpr = true, string? endName = null, bool explicitParentheses = false)
    {
        var line = Current.Line;
        var items = new List<Expr>();
        var isTuple = false;
        while (true)
        {
            if (items.Count > 0) ExpectOperator(",");
            if (IsTupleEnd(endName)) break;
            items.Add(withCondExpr ? ParseExpression() : ParseOr());
            if (Current.IsOperator(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (items.Count > 0) return items[0];
            if (!explicitParentheses) throw Fail($"expected an expression, found {Current.Describe()}", Current);
        }
        return new TupleExpr(items, line);
    }

    private bool IsTupleEnd(string? endName)
    {
        var t = Current;
        return t.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.End || t.IsOperator(")")
            || (endName != null && t.IsName(endName));
    }

    private Expr ParseExpression()
    {
        var line = Current.Line;
        var expr = ParseOr();
        while (SkipName("if"))
        {
            var test = ParseOr();
            var otherwise = SkipName("else") ? ParseExpression() : null;
            expr = new CondExpr(test, expr, otherwise, line);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            var line = Next().Line;
            left = new BinaryExpr("or", left, ParseAnd(), line);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            var line = Next().Line;
            left = new BinaryExpr("and", left, ParseNot(), line);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var line = Next().Line;
            return new UnaryExpr("not", ParseNot(), line);
        }
        return ParseCompare();
    }

    private static readonly string[] CompareOperators = ["==", "!=", "<", "<=", ">", ">="];

    private Expr ParseCompare()
    {
        var line = Current.Line;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            var t = Current;
            if (t.Kind == TokenKind.Operator && CompareOperators.Contains(t.Value))
            {
                _i++;
                rest.Add((t.Value, ParseMath1()));
            }
            else if (t.IsName("in"))
            {
                _i++;
                rest.Add(("in", ParseMath1()));
            }
            else if (t.IsName("not") && Peek().IsName("in"))
            {
                _i += 2;
                rest.Add(("not in", ParseMath1()));
            }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, line);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            var op = Next();
            left = new BinaryExpr(op.Value, left, ParseConcat(), op.Line);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOperator("~"))
        {
            var op = Next();
            left = new BinaryExpr("~", left, ParseMath2(), op.Line);
        }
        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new BinaryExpr(op.Value, left, ParsePow(), op.Line);
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            var op = Next();
            left = new BinaryExpr("**", left, ParseUnary(withFilter: true), op.Line);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        var t = Current;
        Expr node;
        if (t.IsOperator("-") || t.IsOperator("+"))
        {
            _i++;
            node = new UnaryExpr(t.Value, ParseUnary(withFilter: false), t.Line);
        }
        else node = ParsePrimary();
        node = ParsePostfix(node);
        return withFilter ? ParseFilterExpr(node) : node;
    }

    private Expr ParsePrimary()
    {
        var t = Current;
        switch (t.Kind)
        {
            case TokenKind.Name:
                _i++;
                return t.Value switch
                {
                    "true" or "True" => new ConstExpr(true, t.Line),
                    "false" or "False" => new ConstExpr(false, t.Line),
                    "none" or "None" => new ConstExpr(null, t.Line),
                    _ => new NameExpr(t.Value, t.Line),
                };
            case TokenKind.String:
                var text = (string)t.Literal!;
                _i++;
                while (Current.Kind == TokenKind.String) text += (string)Next().Literal!; // adjacent literals join
                return new ConstExpr(text, t.Line);
            case TokenKind.Integer or TokenKind.Float:
                _i++;
                return new ConstExpr(t.Literal, t.Line);
            case TokenKind.Operator when t.Value == "(":
                _i++;
                var inner = ParseTuple(explicitParentheses: true);
                ExpectOperator(")");
                return inner;
            case TokenKind.Operator when t.Value == "[":
                _i++;
                var items = new List<Expr>();
                while (!Current.IsOperator("]"))
                {
                    if (items.Count > 0) ExpectOperator(",");
                    if (Current.IsOperator("]")) break;
                    items.Add(ParseExpression());
                }
                ExpectOperator("]");
                return new ListExpr(items, t.Line);
            case TokenKind.Operator when t.Value == "{":
                _i++;
                var pairs = new List<(Expr, Expr)>();
                while (!Current.IsOperator("}"))
                {
                    if (pairs.Count > 0) ExpectOperator(",");
                    if (Current.IsOperator("}")) break;
                    var key = ParseExpression();
                    ExpectOperator(":");
                    pairs.Add((key, ParseExpression()));
                }
                ExpectOperator("}");
                return new DictExpr(pairs, t.Line);
            default:
                throw Fail($"expected an expression, found {t.Describe()}", t);
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("."))
            {
                _i++;
                var attr = Current;
                if (attr.Kind == TokenKind.Name) { _i++; node = new AttrExpr(node, attr.Value, t.Line); }
                else if (attr.Kind == TokenKind.Integer) { _i++; node = new ItemExpr(node, new ConstExpr(attr.Literal, attr.Line), t.Line); }
                else throw Fail($"expected an attribute name after '.', found {attr.Describe()}", attr);
            }
            else if (t.IsOperator("[")) node = ParseSubscript(node);
            else if (t.IsOperator("(")) node = new CallExpr(node, ParseCallArguments(), t.Line);
            else return node;
        }
    }

    private Expr ParseSubscript(Expr target)
    {
        var line = Next().Line; // '['
        Expr? start = null;
        if (!Current.IsOperator(":"))
        {
            start = ParseExpression();
            if (!Current.IsOperator(":"))
            {
                if (Current.IsOperator(",")) throw Fail("unsupported subscript with several indices", Current);
                ExpectOperator("]");
                return new ItemExpr(target, start, line);
            }
        }
        ExpectOperator(":");
        Expr? stop = null, step = null;
        if (!Current.IsOperator(":") && !Current.IsOperator("]")) stop = ParseExpression();
        if (SkipOperator(":") && !Current.IsOperator("]")) step = ParseExpression();
        ExpectOperator("]");
        return new SliceExpr(target, start, stop, step, line);
    }

    private Arguments ParseCallArguments()
    {
        ExpectOperator("(");
        var positional = new List<Expr>();
        var keywords = new List<(string, Expr)>();
        while (!Current.IsOperator(")"))
        {
            if (positional.Count + keywords.Count > 0) ExpectOperator(",");
            if (Current.IsOperator(")")) break;
            if (Current.IsOperator("*") || Current.IsOperator("**")) throw Fail("unsupported *args / **kwargs in a call", Current);
            if (Current.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                var name = Next().Value;
                _i++;
                keywords.Add((name, ParseExpression()));
            }
            else
            {
                if (keywords.Count > 0) throw Fail("a positional argument follows a keyword argument", Current);
                positional.Add(ParseExpression());
            }
        }
        ExpectOperator(")");
        return new Arguments(positional, keywords);
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("|"))
            {
                _i++;
                var f = ParseFilterCall();
                node = new FilterExpr(node, f.Name, f.Args, f.Line);
            }
            else if (t.IsName("is"))
            {
                _i++;
                node = ParseTest(node, t);
            }
            else if (t.IsOperator("(")) node = new CallExpr(node, ParseCallArguments(), t.Line);
            else return node;
        }
    }

    private FilterCall ParseFilterCall()
    {
        var t = Expect(TokenKind.Name, null, "a filter name");
        if (!Filters.IsSupported(t.Value))
            throw Fail(Filters.IsJinjaBuiltin(t.Value) ? $"unsupported filter '{t.Value}'" : $"unknown filter '{t.Value}'", t);
        var args = Current.IsOperator("(") ? ParseCallArguments() : Arguments.None;
        return new FilterCall(t.Value, args, t.Line);
    }

    private Expr ParseTest(Expr node, Token isToken)
    {
        var negated = SkipName("not");
        var t = Expect(TokenKind.Name, null, "a test name");
        if (!TestFunctions.IsSupported(t.Value)) throw Fail($"unknown test '{t.Value}'", t);
        Arguments args;
        if (Current.IsOperator("(")) args = ParseCallArguments();
        else if (Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                 || Current.IsOperator("[") || Current.IsOperator("{"))
        {
            // Jinja allows one argument without parentheses: `x is divisibleby 3`, `x is sameas none`.
            if (Current.Kind == TokenKind.Name && Current.Value is "else" or "or" or "and" or "if" or "in" or "not" or "is")
                args = Arguments.None;
            else args = new Arguments([ParsePostfix(ParsePrimary())], []);
        }
        else args = Arguments.None;
        return new TestExpr(node, t.Value, args, negated, isToken.Line);
    }
}
