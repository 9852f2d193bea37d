using AwqRuntime.Generation.ChatTemplates;

namespace AwqRuntime.Tests.ChatTemplates;

/// <summary>
/// The interpreter construct by construct. Expected strings follow Jinja 3.1 rendering with
/// transformers' environment (trim_blocks, lstrip_blocks, Python value semantics).
/// </summary>
public class InterpreterTests
{
    private static readonly DateTime FixedNow = new(2025, 1, 15, 12, 0, 0);

    private static string R(string template, params (string Name, object? Value)[] variables)
    {
        var vars = variables.ToDictionary(v => v.Name, v => TemplateValues.From(v.Value));
        return ChatTemplate.Parse(template).RenderValues(vars, FixedNow);
    }

    private static string WithMessages(string template) =>
        ChatTemplate.Parse(template).Render(
            [ChatMessage.System("sys"), ChatMessage.User("Hello"), ChatMessage.Assistant("Hi"), ChatMessage.User("Who are you")],
            new ChatTemplateOptions { BosToken = "<s>", EosToken = "</s>", Now = FixedNow });

    // ---- whitespace control ----

    [Theory]
    [InlineData("{% if true %}\nyes\n{% endif %}\n", "yes\n")] // trim_blocks, and the source's last newline is dropped
    [InlineData("<a>\n    {% if true %}\n    <b>\n    {% endif %}\n</a>", "<a>\n    <b>\n</a>")] // lstrip_blocks
    [InlineData("  {{ 'x' }}", "  x")] // no lstrip before {{
    [InlineData("{{ 'x' }}\ny", "x\ny")] // no trim after }}
    [InlineData("a  {%- if true -%}  b  {%- endif -%}  c", "abc")]
    [InlineData("a \n{{- 'x' -}}\n b", "axb")]
    [InlineData("  {%+ if true %}x{% endif %}", "  x")] // '+' keeps the indentation
    [InlineData("{% if true +%}\nx{% endif %}", "\nx")] // '+%}' keeps the newline
    [InlineData("a{# comment #}b", "ab")]
    [InlineData("  {# c #}\nx", "x")] // comments are lstripped and trimmed like blocks
    [InlineData("a {#- c -#} b", "ab")]
    [InlineData("{% raw %}{{ not a tag }}{% endraw %}", "{{ not a tag }}")]
    [InlineData("x\n\n", "x\n")]
    [InlineData("a\r\nb", "a\nb")]
    [InlineData("{% for x in [1, 2] %}\n  {{ x }}\n{% endfor %}", "  1\n  2\n")]
    [InlineData("{% for x in [1, 2] %}\n    {% if x %}[{{ x }}]{% endif %}\n{% endfor %}", "[1][2]")]
    public void Whitespace_control(string template, string expected) => Assert.Equal(expected, R(template));

    // ---- expressions ----

    [Theory]
    [InlineData("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }}", "3 -4 1 2 3.5 1024 7 9")]
    [InlineData("{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 10 / 4 }} {{ 1e15 }} {{ -0.0 }}", "1.0 0.30000000000000004 1e+20 1.5e-07 2.5 1000000000000000.0 -0.0")]
    [InlineData("{{ 'a' + 'b' }} {{ 'n' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ 1_000 }} {{ 'a' 'b' }}", "ab n1NoneTrue ababab 1000 ab")]
    [InlineData("{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' in 'cat' }} {{ 2 not in [1, 3] }} {{ 'k' in {'k': 1} }}", "True False True True True")]
    [InlineData("{{ 1 == 1.0 }} {{ true == 1 }} {{ [1, 2] == [1, 2] }} {{ none == none }} {{ 'a' != 'b' }} {{ {'a': 1} == {'a': 1.0} }}", "True True True True True True")]
    [InlineData("{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }}|", "x b |")]
    [InlineData("{{ 'y' if true else 'n' }}{{ 'y' if false }}|{{ 'a' if 0 else 'b' if 1 else 'c' }}", "y|b")]
    [InlineData("{{ not 1 == 2 }} {{ not 'x' }} {{ 'a' + ' b ' | trim }} {{ -1 | abs }}", "True False ab 1")]
    [InlineData("{{ [1, 'a', none, true, 1.5] }} {{ {'a': 1, 'b': [2]} }} {{ (1,) }} {{ (1, 2) }} {{ [\"it's\"] }}", "[1, 'a', None, True, 1.5] {'a': 1, 'b': [2]} (1,) (1, 2) [\"it's\"]")]
    [InlineData("{{ [1,2,3,4][1:] }} {{ [1,2,3,4][::-1] }} {{ 'hello'[1:3] }} {{ [1,2,3][-1] }} {{ 'abc'[::-1] }} {{ [1,2,3,4,5][1:4:2] }} {{ [1,2,3][5:] }}", "[2, 3, 4] [4, 3, 2, 1] el 3 cba [2, 4] []")]
    [InlineData("{{ 'a\\tb\\u00e9\\x41\\\\' }}|{{ \"q'\" }}|{{ 'it\\'s' }}", "a\tbéA\\|q'|it's")]
    [InlineData("{{ {'a': {'b': 1}} }}", "{'a': {'b': 1}}")] // '}}' inside brackets does not close the tag
    public void Expressions(string template, string expected) => Assert.Equal(expected, R(template));

    [Fact]
    public void Attribute_and_item_access()
    {
        Assert.Equal("user|user|Hello|4|sys|d|None||False",
            WithMessages("{{ messages[1].role }}|{{ messages[1]['role'] }}|{{ messages[1].content }}|{{ messages | length }}|{{ messages[0]['content'] }}"
                + "|{{ messages[0].get('x', 'd') }}|{{ messages[0].get('x') }}|{{ messages[0].missing }}|{{ messages[0].missing is defined }}"));
        Assert.Equal("False", R("{{ 'abc'.content is defined }}"));
        // An item shadowed by a dict method: brackets find the item, a dot the method.
        Assert.Equal("2 True", R("{{ d['items'] }} {{ d.items is callable }}", ("d", new Dictionary<string, object?> { ["items"] = 2L })));
    }

    // ---- loops ----

    [Fact]
    public void Loop_variables()
    {
        Assert.Equal("10TrueFalse332 21FalseFalse321 32FalseTrue310 ",
            R("{% for x in ['a','b','c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }} {% endfor %}"));
        Assert.Equal("-2-a 1-3-b 2--a ", R("{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a','b') }} {% endfor %}"));
    }

    [Theory]
    [InlineData("{% for x in range(6) if x is odd %}{{ x }}{{ loop.length }} {% endfor %}", "13 33 53 ")]
    [InlineData("{% for x in [] %}x{% else %}empty{% endfor %}", "empty")]
    [InlineData("{% for x in [1] if false %}x{% else %}filtered{% endfor %}", "filtered")]
    [InlineData("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", "0134")]
    [InlineData("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;")]
    [InlineData("{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}{% for c in 'hi' %}[{{ c }}]{% endfor %}", "ab[h][i]")]
    [InlineData("{% for (a, b) in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}", "3 7 ")]
    [InlineData("{% for i in [1, 2] %}{% for j in [3, 4] %}{{ loop.index }}{% endfor %}{{ loop.index }} {% endfor %}", "121 122 ")]
    [InlineData("{% for x in missing %}x{% endfor %}|", "|")]
    public void Loops(string template, string expected) => Assert.Equal(expected, R(template));

    // ---- scoping and assignment ----

    [Theory]
    [InlineData("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + 10 %}{{ x }} {% endfor %}{{ x }}", "11 11 1")] // a loop's set stays in its iteration
    [InlineData("{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", "6")]
    [InlineData("{% set ns = namespace() %}{% set ns.found = true %}{{ ns.found }}", "True")]
    [InlineData("{% if true %}{% set y = 'in' %}{% endif %}{{ y }}", "in")] // if blocks have no scope
    [InlineData("{% set a, b = 1, 2 %}{{ b }}{{ a }}", "21")]
    [InlineData("{% set x %}hi {{ 1 + 1 }}{% endset %}[{{ x }}]", "[hi 2]")]
    [InlineData("{% set x | upper %}hi{% endset %}{{ x }}", "HI")]
    [InlineData("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}|", "3|")]
    [InlineData("{% filter upper %}a{{ 'b' }}{% endfilter %}", "AB")]
    [InlineData("{% generation %}kept{% endgeneration %}", "kept")]
    public void Scoping_and_assignment(string template, string expected) => Assert.Equal(expected, R(template));

    [Fact]
    public void A_top_level_set_shadows_a_variable() =>
        Assert.Equal("3 user", WithMessages("{% set messages = messages[1:] %}{{ messages | length }} {{ messages[0].role }}"));

    [Theory]
    [InlineData("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', punct='?') }}", "Hi Ann! Hi Bob?")]
    [InlineData("{% macro m(a, b) %}[{{ a }}|{{ b }}]{% endmacro %}{{ m(1) }}{{ m(b=2) }}", "[1|][|2]")]
    [InlineData("{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inner{% endcall %}", "[inner]")]
    [InlineData("{% macro row(x) %}{{ caller(x * 2) }}{% endmacro %}{% call(v) row(21) %}={{ v }}{% endcall %}", "=42")]
    [InlineData("{% set g = 'outer' %}{% macro m() %}{% set g = 'inner' %}{{ g }}{% endmacro %}{{ m() }} {{ g }}", "inner outer")]
    public void Macros(string template, string expected) => Assert.Equal(expected, R(template));

    // ---- filters ----

    [Theory]
    [InlineData("{{ '  x  ' | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello world-wide (x)' | title }}|{{ 'hELLO' | capitalize }}|{{ [1,2,3] | length }}|{{ 'héllo' | length }}|{{ 'xxhixx' | trim('x') }}",
        "x|ABC|abc|Hello World-Wide (X)|Hello|3|5|hi")]
    [InlineData("{{ undefined_var | default('d') }}|{{ none | default('d') }}|{{ '' | default('d', true) }}|{{ 0 | d('z', boolean=true) }}", "d|None|d|z")]
    [InlineData("{{ [1, 2, 3] | join(', ') }}|{{ ['a','b'] | join }}|{{ [{'n': 'x'}, {'n': 'y'}] | join('-', attribute='n') }}", "1, 2, 3|ab|x-y")]
    [InlineData("{{ [1,2,3] | first }}{{ [1,2,3] | last }}{{ 'ab' | list }}{{ 42 | string }}{{ '42' | int + 1 }}{{ '3.7' | int }}{{ 'x' | int }}{{ '1.5' | float }}{{ 'ff' | int(base=16) }}",
        "13['a', 'b']4243301.5255")]
    [InlineData("{{ 'aaa' | replace('a', 'b', 2) }}|{{ 'hello' | replace('l', 'L') }}", "bba|heLLo")]
    [InlineData("{% for k, v in {'b': 1, 'a': 2} | items %}{{ k }}{{ v }}{% endfor %}|{% for k, v in {'b': 1, 'a': 2} | dictsort %}{{ k }}{{ v }}{% endfor %}", "b1a2|a2b1")]
    [InlineData("{{ [{'a': 1}, {'b': 2}] | selectattr('a', 'defined') | list }}|{{ [{'a': 1}, {'b': 2}] | rejectattr('a') | list }}", "[{'a': 1}]|[{'b': 2}]")]
    [InlineData("{{ ['a','b'] | map('upper') | join }}|{{ range(5) | select('odd') | list }}|{{ range(5) | reject('odd') | list }}|{{ [{'n': 1}, {}] | map(attribute='n', default=0) | list }}",
        "AB|[1, 3]|[0, 2, 4]|[1, 0]")]
    [InlineData("{{ [3,1,2] | sort }}{{ ['b','A','a'] | unique | list }}{{ [3,1,2] | min }}{{ [3,1,2] | max }}{{ [1,2,3] | sum }}{{ [1,2,3] | reverse | list }}{{ 'abc' | reverse }}",
        "[1, 2, 3]['b', 'A']136[3, 2, 1]cba")]
    [InlineData("{{ [{'n': 2}, {'n': 1}] | sort(attribute='n') | map(attribute='n') | join }}{{ ['b', 'C', 'a'] | sort(reverse=true) | join }}", "12Cba")]
    [InlineData("{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}", "a\n  b\n\n  c|  a\n  b")]
    [InlineData("{{ 'one two  three' | wordcount }} {{ '<a href=\"x\">&</a>' | e }} {{ 'x' | center(5) }}|", "3 &lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;   x  |")]
    [InlineData("{{ 2.5 | round }} {{ 3.14159 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 7 | round }} {{ -3 | abs }} {{ [1, 2] | count }}", "2.0 3.14 3.0 7 3 2")]
    [InlineData("{{ missing | length }}{{ missing | list }}{{ missing | join }}{{ missing | upper }}{{ missing | items | list }}{{ missing | first is defined }}", "0[][]False")]
    public void Filters(string template, string expected) => Assert.Equal(expected, R(template));

    [Fact]
    public void Tojson_is_python_json_dumps()
    {
        Assert.Equal("{\"a\": [1, 2.5, null, true], \"b\": \"é\\\"\\n\\u0001\"}", R("{{ {'a': [1, 2.5, none, true], 'b': 'é\"\\n\\x01'} | tojson }}"));
        Assert.Equal("{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}", R("{{ {'a': [1, {}], 'b': []} | tojson(indent=2) }}"));
        Assert.Equal("{\"a\":1,\"b\":2}", R("{{ {'b': 2, 'a': 1} | tojson(separators=(',', ':'), sort_keys=true) }}"));
        Assert.Equal("\"\\u00e9\"", R("{{ 'é' | tojson(ensure_ascii=true) }}"));
        Assert.Equal("\"text\"", R("{{ 'text' | tojson }}"));
        var e = Assert.Throws<ChatTemplateException>(() => R("{{ missing | tojson }}"));
        Assert.Contains("not JSON serializable", e.Message);
    }

    // ---- tests ----

    [Fact]
    public void Tests() =>
        Assert.Equal("FalseTrueTrueTrueTrueFalseTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueFalseTrueFalse",
            R("{{ x is defined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}{{ true is number }}{{ true is integer }}{{ 1 is integer }}"
              + "{{ 1.0 is float }}{{ {} is mapping }}{{ 'a' is iterable }}{{ [1] is sequence }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}"
              + "{{ 1 is eq 1 }}{{ 'a' is in 'abc' }}{{ 'A' is upper }}{{ 'a' is lower }}{{ range is callable }}{{ none is sameas none }}{{ true is true }}"
              + "{{ 1 is true }}{{ x is undefined }}{{ none is not none }}"));

    // ---- methods ----

    [Fact]
    public void String_and_dict_methods()
    {
        Assert.Equal("x|hi|hi|hi|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|['a-b', 'c']|True|True|They'Re Here|AXBaxb|a!b|a-b|2|1",
            R("{{ '  x '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nhi'.lstrip('\\n') }}|{{ 'hi  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}"
              + "|{{ 'a b c'.split(' ', 1) }}|{{ 'a-b-c'.rsplit('-', 1) }}|{{ 'Hi'.startswith('H') }}|{{ 'Hi'.endswith(('x', 'i')) }}|{{ \"they're here\".title() }}"
              + "|{{ 'aXb'.upper() }}{{ 'aXb'.lower() }}|{{ 'a.b'.replace('.', '!') }}|{{ '-'.join(['a', 'b']) }}|{{ 'banana'.count('an') }}|{{ 'abc'.find('b') }}"));
        Assert.Equal("1None2['a'][1]", R("{% set d = {'a': 1} %}{{ d.get('a') }}{{ d.get('b') }}{{ d.get('b', 2) }}{{ d.keys() | list }}{{ d.values() | list }}"));
        Assert.Equal("a</think>b", R("{{ ('x' ~ '<think>a</think>b').split('<think>')[-1] }}"));
    }

    // ---- globals ----

    [Fact]
    public void Globals()
    {
        Assert.Equal("[0, 1, 2][1, 3, 5][3, 2, 1][]", R("{{ range(3) | list }}{{ range(1, 7, 2) | list }}{{ range(3, 0, -1) | list }}{{ range(0) | list }}"));
        Assert.Equal("{'a': 1}", R("{{ dict(a=1) }}"));
        Assert.Equal("15 Jan 2025|Wednesday January 15, 12:00:00 PM 015 25|2025-01-15",
            R("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A %B %-d, %H:%M:%S %p %j %y') }}|{{ strftime_now('%Y-%m-%d') }}"));
        Assert.Equal("True", R("{{ strftime_now is defined }}"));
    }

    [Fact]
    public void Strftime_reads_the_clock_unless_fixed()
    {
        var year = ChatTemplate.Parse("{{ strftime_now('%Y') }}").Render([]);
        Assert.Equal(DateTime.Now.Year.ToString(System.Globalization.CultureInfo.InvariantCulture), year);
    }

    [Fact]
    public void Raise_exception_carries_the_template_s_message_and_line()
    {
        var e = Assert.Throws<ChatTemplateRaisedException>(() => R("line one\n{% if true %}{{ raise_exception('No ' ~ 'way!') }}{% endif %}"));
        Assert.Equal("No way!", e.TemplateMessage);
        Assert.Equal(2, e.Line);
        Assert.Equal("chat template, line 2: No way!", e.Message);
    }

    // ---- undefined ----

    [Fact]
    public void Undefined_is_falsy_empty_and_fails_when_used()
    {
        Assert.Equal("|False|0||True|True|False", R("{{ missing }}|{{ missing is defined }}|{{ missing | length }}|{% for x in missing %}x{% endfor %}|{{ missing == missing }}|{{ not missing }}|{{ 'a' in missing }}"));
        Assert.Contains("'missing' is undefined", Assert.Throws<ChatTemplateException>(() => R("{{ missing.attr }}")).Message);
        Assert.Contains("'dict object' has no attribute 'nope'", Assert.Throws<ChatTemplateException>(() => WithMessages("{{ messages[0].nope.deeper }}")).Message);
        Assert.Contains("'missing' is undefined", Assert.Throws<ChatTemplateException>(() => R("{{ missing + 1 }}")).Message);
        Assert.Contains("'missing' is undefined", Assert.Throws<ChatTemplateException>(() => R("{{ missing() }}")).Message);
    }

    // ---- errors ----

    [Theory]
    [InlineData("{{ x | frobnicate }}", "line 1: unknown filter 'frobnicate'")]
    [InlineData("a\nb\n{{ x | groupby('a') }}", "line 3: unsupported filter 'groupby'")]
    [InlineData("{{ x is frobnicated }}", "unknown test 'frobnicated'")]
    [InlineData("{% include 'other.jinja' %}", "unsupported tag 'include'")]
    [InlineData("{% extends 'base' %}", "unsupported tag 'extends'")]
    [InlineData("{% do x.append(1) %}", "unsupported tag 'do'")]
    [InlineData("{% frob %}", "unknown tag 'frob'")]
    [InlineData("{% for x in xs recursive %}{% endfor %}", "unsupported recursive for loop")]
    [InlineData("{% if x %}open", "the template ends before '{% endif %}'")]
    [InlineData("{% for x in y %}", "the template ends before '{% endfor %}'")]
    [InlineData("{{ 1 + }}", "expected an expression, found '}}'")]
    [InlineData("{{ 'open }}", "a string literal is never closed")]
    [InlineData("{# never closed", "the comment '{#' is never closed")]
    [InlineData("{{ x", "a '{{' tag is never closed")]
    [InlineData("{% break %}", "'break' outside a for loop")]
    [InlineData("x{% endif %}", "unexpected '{% endif %}'")]
    [InlineData("{{ f(*args) }}", "unsupported *args")]
    public void Parse_errors_name_the_construct(string template, string expected)
    {
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(template));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith("chat template", e.Message);
    }

    [Theory]
    [InlineData("{{ 'a' + 1 }}", "unsupported operand type(s) for +: 'str' and 'int'")]
    [InlineData("{{ messages.append(1) }}", "list.append() is not allowed")]
    [InlineData("{{ 1 / 0 }}", "division by zero")]
    [InlineData("{{ '%s' % 1 }}", "unsupported printf-style string formatting")]
    [InlineData("{{ 'a'.format(1) }}", "unsupported str.format()")]
    [InlineData("{{ 1 < 'a' }}", "'<' not supported between instances of 'int' and 'str'")]
    [InlineData("{{ range(1000000) }}", "range is too big")]
    [InlineData("{% set x = 1 %}{% set x.y = 2 %}", "not a namespace()")]
    [InlineData("{% for a, b in [1] %}{% endfor %}", "cannot unpack")]
    [InlineData("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", "macro 'm' takes not more than 1 argument(s)")]
    [InlineData("{{ none | first }}", "'NoneType' object is not iterable")]
    public void Runtime_errors_are_one_line(string template, string expected)
    {
        var e = Assert.Throws<ChatTemplateException>(() => R(template, ("messages", new List<object?>())));
        Assert.IsNotType<ChatTemplateRaisedException>(e);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
