using System.Text;

namespace AwqRuntime.Tests.Server;

/// <summary>
/// The hostile requests, generated deterministically (the random ones from a fixed seed), by category:
/// every field with numbers no parser should trust, wrong JSON types, deep nesting, invalid UTF-8,
/// duplicate keys, bodies over the limit, random bytes, wrong methods, content types and paths, bad
/// credentials, bodies cut short, malformed HTTP framing, and clients that hang up mid-answer.
/// </summary>
public static class HostileRequests
{
    public const string Completions = "/v1/completions";
    public const string Chat = "/v1/chat/completions";

    private const string Prompt = "\"prompt\": \"Once upon a time\"";
    private const string Messages = "\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]";

    /// <summary>
    /// A small valid body for <paramref name="path"/> (greedy, <paramref name="maxTokens"/> tokens) with
    /// <paramref name="extra"/> fields appended; a base field that <paramref name="extra"/> also sets is left out.
    /// </summary>
    public static string Body(string path, string extra = "", int maxTokens = 2)
    {
        var fields = new List<string> { path == Chat ? Messages : Prompt };
        if (!extra.Contains("\"temperature\"")) fields.Add("\"temperature\": 0");
        if (!extra.Contains("max_tokens\"") && !extra.Contains("max_completion_tokens\"")) fields.Add($"\"max_tokens\": {maxTokens}");
        if (extra.Length > 0) fields.Add(extra);
        return "{" + string.Join(", ", fields) + "}";
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public static IReadOnlyList<HostileCase> All(int seed = 20240611)
    {
        var rng = new Random(seed);
        return
        [
            .. HugeNumbers(), .. WrongTypes(), .. DeepJson(), .. InvalidUtf8(rng), .. DuplicateKeys(), .. OverTheLimit(),
            .. RandomBytes(rng), .. WrongMethodTypeOrPath(), .. BadAuth(), .. TruncatedBodies(rng), .. MalformedHttp(), .. Disconnects(rng),
        ];
    }

    /// <summary>Every numeric field with values out of its range or its type: 1e308, 1e400 (→ ∞), 2^63, −2^63−1, fractions, NaN-like strings.</summary>
    public static IEnumerable<HostileCase> HugeNumbers()
    {
        string[] notInts =
        [
            "1e308", "-1e308", "1e400", "-1e400", "9223372036854775808", "-9223372036854775809", "2147483648", "-2147483649",
            "18446744073709551616", "123456789012345678901234567890", "0.5", "1.0e1", "-1", "\"NaN\"", "\"Infinity\"", "\"1e308\"", "true",
            "1" + new string('0', 5000),
        ];
        string[] notInRange = ["1e400", "-1e400", "1e308", "-1e308", "3", "-3", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"0.5\"", "1e99999", "-" + new string('9', 5000)];
        string[] notSeeds = ["1e308", "9223372036854775808", "-9223372036854775809", "0.5", "\"NaN\"", "1e400", "18446744073709551616"];
        foreach (var path in new[] { Completions, Chat })
        {
            string[] ints = path == Chat ? ["max_tokens", "max_completion_tokens", "top_k", "n", "top_logprobs"] : ["max_tokens", "max_completion_tokens", "top_k", "n", "logprobs"];
            foreach (var field in ints)
                foreach (var v in notInts)
                    yield return new HttpCase("huge numbers", $"{path} {field}={Short(v)}", path,
                        Utf8(Body(path, $"\"{field}\": {v}" + (field == "top_logprobs" ? ", \"logprobs\": true" : ""))), Expectation.Bad(field));
            foreach (var field in new[] { "temperature", "top_p", "min_p", "presence_penalty", "frequency_penalty" })
                foreach (var v in notInRange)
                    yield return new HttpCase("huge numbers", $"{path} {field}={Short(v)}", path, Utf8(Body(path, $"\"{field}\": {v}")), Expectation.Bad(field));
            foreach (var v in notSeeds)
                yield return new HttpCase("huge numbers", $"{path} seed={Short(v)}", path, Utf8(Body(path, $"\"seed\": {v}")), Expectation.Bad("seed"));
            // Positive, but 0 once a float (the sampler's type): as out of range as 0 itself.
            yield return new HttpCase("huge numbers", $"{path} top_p=1e-300", path, Utf8(Body(path, "\"top_p\": 1e-300")), Expectation.Bad("top_p"));
            // Extreme but valid: served (max_tokens stops at the context's end).
            foreach (var ok in new[] { "\"max_tokens\": 2147483647", "\"top_k\": 2147483647", "\"seed\": -9223372036854775808", "\"seed\": 9223372036854775807",
                         "\"temperature\": 1e-300", "\"min_p\": 1e-300", "\"presence_penalty\": -2, \"frequency_penalty\": 2", "\"max_tokens\": 0", "\"max_tokens\": -0",
                         "\"temperature\": 2, \"top_p\": 4.9e-324", "\"seed\": 0" })
                yield return new HttpCase("huge numbers", $"{path} {ok}", path, Utf8(Body(path, ok)),
                    ok.Contains("4.9e-324") ? Expectation.Bad("top_p") : Expectation.Served);
            // Not JSON at all (RFC 8259 §6 has no NaN or Infinity).
            foreach (var v in new[] { "NaN", "Infinity", "-Infinity", "+1", "0x10", "1.", ".5", "01" })
                yield return new HttpCase("huge numbers", $"{path} max_tokens={v}", path, Utf8(Body(path, $"\"max_tokens\": {v}")), Expectation.Bad(null));
        }
    }

    private static string Short(string v) => v.Length > 24 ? v[..12] + $"…({v.Length} chars)" : v;

    /// <summary>Each field with a value of the wrong JSON type or shape, and bodies that are not objects.</summary>
    public static IEnumerable<HostileCase> WrongTypes()
    {
        (string Path, string Json, string? Param)[] cases =
        [
            (Completions, "{\"prompt\": 7}", "prompt"), (Completions, "{\"prompt\": true}", "prompt"), (Completions, "{\"prompt\": {}}", "prompt"),
            (Completions, "{\"prompt\": {\"a\": 1}}", "prompt"), (Completions, "{\"prompt\": [1, \"a\"]}", "prompt"), (Completions, "{\"prompt\": [\"a\", \"b\"]}", "prompt"),
            (Completions, "{\"prompt\": []}", "prompt"), (Completions, "{\"prompt\": [-1]}", "prompt"), (Completions, "{\"prompt\": [1.5]}", "prompt"),
            (Completions, "{\"prompt\": [99999999999]}", "prompt"), (Completions, "{\"prompt\": [100000]}", "prompt"), (Completions, "{\"prompt\": null}", "prompt"),
            (Completions, "{\"prompt\": [[1, 2]]}", "prompt"), (Completions, "{\"prompt\": [null]}", "prompt"), (Completions, "{}", "prompt"),
(Chat, "{\"messages\": \"hi\"}", "messages"), (Chat, "{\"messages\": 1}", "messages"),
            (Chat, "{\"messages\": {}}", "messages"), (Chat, "{\"messages\": null}", "messages"), (Chat, "{\"messages\": []}", "messages"), (Chat, "{}", "messages"),
            (Chat, "{\"messages\": [1]}", "messages[0]"), (Chat, "{\"messages\": [[]]}", "messages[0]"), (Chat, "{\"messages\": [{\"role\": 1}]}", "messages[0].role"),
            (Chat, "{\"messages\": [{\"content\": \"x\"}]}", "messages[0].role"), (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": 1}]}", "messages[0].content"),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": {}}]}", "messages[0].content"),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", "messages[0].content"),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": 1}]}]}", "messages[0].content.text"),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": [1]}]}", "messages[0].content"),
            (Chat, "{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", "messages[0].role"),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}, {\"role\": [], \"content\": \"y\"}]}", "messages[1].role"),
            (Chat, "{\"messages\": [{\"role\": \"USER\", \"content\": \"x\"}]}", "messages[0].role"),
        ];
        foreach (var (path, json, param) in cases)
            yield return new HttpCase("wrong types", $"{path} {json}", path, Utf8(json), Expectation.Bad(param));

        (string Field, string[] Values)[] shared =
        [
            ("model", ["1", "true", "[]", "{}"]), ("stream", ["\"yes\"", "1", "[]", "{}"]), ("stream_options", ["\"x\"", "1", "[]"]),
            ("stop", ["1", "{}", "[1]", "[\"\"]", "[null]", "[\"a\", \"b\", \"c\", \"d\", \"e\"]", "[[\"a\"]]", "true"]),
            ("ignore_eos", ["\"yes\"", "1", "null1"]), ("temperature", ["\"x\"", "[]", "{}", "true"]), ("top_p", ["\"1\"", "[]", "false"]),
            ("max_tokens", ["\"10\"", "[]", "{}", "[10]"]), ("top_k", ["\"40\"", "{}"]), ("n", ["\"1\"", "2", "0"]),
            ("presence_penalty", ["\"0\"", "[0]"]), ("frequency_penalty", ["{}", "\"\""]), ("min_p", ["[]", "\"0.1\""]), ("seed", ["\"1\"", "[]", "{}"]),
        ];
        foreach (var path in new[] { Completions, Chat })
        {
            foreach (var (field, values) in shared)
                foreach (var v in values)
                    yield return new HttpCase("wrong types", $"{path} {field}={v}", path, Utf8(Body(path, $"\"{field}\": {v}")),
                        v == "null1" ? Expectation.Bad(null) : Expectation.Bad(field));
            yield return new HttpCase("wrong types", $"{path} stream_options.include_usage", path,
                Utf8(Body(path, "\"stream\": true, \"stream_options\": {\"include_usage\": \"yes\"}")), Expectation.Bad("stream_options.include_usage"));
            yield return new HttpCase("wrong types", $"{path} model=gpt-9", path, Utf8(Body(path, "\"model\": \"gpt-9\"")), new Expectation([404], "model"));
            foreach (var root in new[] { "[]", "\"x\"", "1", "null", "true", "[{}]", "\"\"", "-0" })
                yield return new HttpCase("wrong types", $"{path} root {root}", path, Utf8(root), Expectation.Bad(null));
        }
        foreach (var v in new[] { "\"yes\"", "1", "[]" })
            yield return new HttpCase("wrong types", $"chat logprobs={v}", Chat, Utf8(Body(Chat, $"\"logprobs\": {v}")), Expectation.Bad("logprobs"));
        yield return new HttpCase("wrong types", "chat top_logprobs without logprobs", Chat, Utf8(Body(Chat, "\"top_logprobs\": 5")), Expectation.Bad("top_logprobs"));
        yield return new HttpCase("wrong types", "chat top_logprobs 21", Chat, Utf8(Body(Chat, "\"top_logprobs\": 21, \"logprobs\": true")), Expectation.Bad("top_logprobs"));
        foreach (var v in new[] { "true", "6", "\"1\"" })
            yield return new HttpCase("wrong types", $"completions logprobs={v}", Completions, Utf8(Body(Completions, $"\"logprobs\": {v}")), Expectation.Bad("logprobs"));
    }

    /// <summary>Nesting far past any sane depth (up to 60,000 levels), closed and unclosed, at the root and inside fields.</summary>
    public static IEnumerable<HostileCase> DeepJson()
    {
        foreach (var depth in new[] { 65, 100, 1_000, 10_000, 30_000, 60_000 })
        {
            (string Name, string Open, string Close, Func<string, string> Wrap)[] shapes =
            [
                ("arrays", "[", "]", s => s),
                ("objects", "{\"a\":", "}", s => s),
                ("mixed", "[{\"a\":", "}]", s => s),
                ("in prompt", "[", "]", s => $"{{\"prompt\": {s}}}"),
                ("in content", "[", "]", s => $"{{\"messages\": [{{\"role\": \"user\", \"content\": {s}}}]}}"),
            ];
            foreach (var (name, open, close, wrap) in shapes)
                foreach (var closed in new[] { true, false })
                {
                    var inner = string.Concat(Enumerable.Repeat(open, depth)) + (closed ? "1" + string.Concat(Enumerable.Repeat(close, depth)) : "");
                    var body = Utf8(wrap(inner));
                    var path = name == "in content" ? Chat : Completions;
                    yield return new HttpCase("deep json", $"{name} depth {depth} {(closed ? "closed" : "unclosed")}", path, body,
                        body.Length > HostileServer.BodyLimit ? new Expectation([413]) : Expectation.Bad(null));
                }
        }
    }

    /// <summary>Ill-formed UTF-8 (RFC 3629 §3: bytes never valid, overlong forms, encoded surrogates, beyond U+10FFFF, cut sequences) in values and keys, and lone surrogate escapes (RFC 8259 §8.2).</summary>
    public static IEnumerable<HostileCase> InvalidUtf8(Random rng)
    {
        byte[][] bad =
        [
            [0xFF], [0xFE], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
            [0xE2, 0x82], [0x80], [0xBF], [0xC2], [0xF0, 0x9F, 0x98], [0xC3, 0x28], [0xA0, 0xA1], [0xE2, 0x28, 0xA1],
        ];
        // Where the bytes go, and the key StrictJson names for them (none for a key that is not UTF-8 at the top level).
        (string Path, string Template, string? Param)[] places =
        [
            (Completions, "{\"prompt\": \"Once @ upon\", \"max_tokens\": 2}", "prompt"),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi @ there\"}], \"max_tokens\": 2}", "messages[0].content"),
            (Chat, "{\"messages\": [{\"role\": \"us@er\", \"content\": \"Hi\"}], \"max_tokens\": 2}", "messages[0].role"),
            (Completions, "{\"prompt\": \"x\", \"k@y\": 1, \"max_tokens\": 2}", null),
            (Completions, "{\"prompt\": \"x\", \"stop\": [\"a@\"], \"max_tokens\": 2}", "stop[0]"),
            (Completions, "{\"prompt\": \"x\", \"model\": \"stories@\", \"max_tokens\": 2}", "model"),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"@\"}]}], \"max_tokens\": 2}", "messages[0].content[0].text"),
            (Completions, "{\"pr@ompt\": \"x\"}", null),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"cont@ent\": \"x\"}]}", "messages[0]"),
        ];
        for (var i = 0; i < 84; i++)
        {
            var (path, template, param) = places[i % places.Length];
            var seq = bad[rng.Next(bad.Length)];
            var at = template.IndexOf('@');
            byte[] body = [.. Utf8(template[..at]), .. seq, .. Utf8(template[(at + 1)..])];
            yield return new HttpCase("invalid utf-8", $"{path} {Convert.ToHexString(seq)} in {template[..Math.Min(40, template.Length)]}", path, body, Expectation.Bad(param));
        }
        // Escapes that name half a surrogate pair: valid UTF-8 bytes, but no Unicode text.
        (string Path, string Json, string Param)[] escapes =
        [
            (Completions, "{\"prompt\": \"\\ud800\"}", "prompt"), (Completions, "{\"prompt\": \"a\\udfffb\"}", "prompt"),
            (Completions, "{\"prompt\": [\"\\udc00\\ud800\"]}", "prompt"), (Completions, "{\"prompt\": \"x\", \"stop\": \"\\ud83d\"}", "stop"),
            (Completions, "{\"prompt\": \"x\", \"stop\": [\"\\ude00\"]}", "stop"), (Completions, "{\"prompt\": \"x\", \"model\": \"\\ud800\"}", "model"),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"\\ud800\\u0041\"}]}", "messages[0].content"),
            (Chat, "{\"messages\": [{\"role\": \"\\ud800\", \"content\": \"x\"}]}", "messages[0].role"),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"\\udbff\"}]}]}", "messages[0].content.text"),
            (Chat, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"\\udbff\", \"text\": \"x\"}]}]}", "messages[0].content.type"),
            (Completions, "{\"prompt\": \"x\", \"\\ud800\": 1}", null!), (Completions, "{\"\\ud800\": \"x\", \"\\ud800\": 1}", null!),
            (Completions, "{\"prompt\": \"\\u\"}", null!), (Completions, "{\"prompt\": \"\\uZZZZ\"}", null!), (Completions, "{\"prompt\": \"\\x41\"}", null!),
            (Completions, "{\"prompt\": \"a\u0001b\"}", null!),
        ];
        foreach (var (path, json, param) in escapes)
            yield return new HttpCase("invalid utf-8", $"{path} {json}", path, Utf8(json), Expectation.Bad(param));
    }

    /// <summary>The same key twice (RFC 8259 §4: names SHOULD be unique; I-JSON, RFC 7493 §2.3: MUST NOT repeat), plain, escaped and nested.</summary>
    public static IEnumerable<HostileCase> DuplicateKeys()
    {
        (string Json, string Key)[] dups =
        [
            ("\"max_tokens\": 1, \"max_tokens\": -1", "max_tokens"), ("\"max_tokens\": -1, \"max_tokens\": 1", "max_tokens"),
            ("\"temperature\": 0, \"temperature\": 0", "temperature"), ("\"stream\": false, \"stream\": true", "stream"),
            ("\"model\": \"stories260K\", \"model\": \"other\"", "model"), ("\"stop\": \"a\", \"stop\": [\"b\"]", "stop"),
            ("\"m\\u0061x_tokens\": 1, \"max_tokens\": 2", "max_tokens"), ("\"seed\": 1, \"seed\": 2, \"seed\": 3", "seed"),
            ("\"stream_options\": {\"include_usage\": true, \"include_usage\": false}, \"stream\": true", "stream_options.include_usage"),
            ("\"top_p\": 0.5, \"top_p\": 0.9", "top_p"), ("\"n\": 1, \"n\": 1", "n"), ("\"ignore_eos\": true, \"ignore_eos\": false", "ignore_eos"),
        ];
        foreach (var path in new[] { Completions, Chat })
        {
            foreach (var (d, key) in dups)
                yield return new HttpCase("duplicate keys", $"{path} {d}", path, Utf8(Body(path, d)), Expectation.Bad(key));
            for (var copies = 2; copies <= 12; copies += 2)
            {
                var key = path == Chat ? Messages : Prompt;
                var json = "{" + string.Join(", ", Enumerable.Repeat(key, copies)) + ", \"max_tokens\": 2}";
                yield return new HttpCase("duplicate keys", $"{path} main field x{copies}", path, Utf8(json), Expectation.Bad(path == Chat ? "messages" : "prompt"));
            }
        }
        (string Json, string Key)[] nested =
        [
            ("{\"messages\": [{\"role\": \"user\", \"role\": \"system\", \"content\": \"x\"}]}", "messages[0].role"),
            ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\", \"content\": \"y\"}]}", "messages[0].content"),
            ("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"a\", \"text\": \"b\"}]}]}", "messages[0].content[0].text"),
            ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"extra\": {\"a\": 1, \"a\": 2}}", "extra.a"),
        ];
        foreach (var (json, key) in nested)
            yield return new HttpCase("duplicate keys", $"chat {json}", Chat, Utf8(json), Expectation.Bad(key));
    }

    /// <summary>Bodies over the 64 KiB limit (declared and chunked), and Content-Length values that lie, overflow or are negative (RFC 9112 §6.3).</summary>
    public static IEnumerable<HostileCase> OverTheLimit()
    {
        foreach (var size in new[] { HostileServer.BodyLimit + 1, 100_000, 1 << 20, 4 << 20 })
        {
            var body = Utf8($"{{\"prompt\": \"{new string('a', size)}\"}}");
            // The server answers 413 and closes (RFC 9110 §15.5.14); a client still writing megabytes may meet the reset before the answer.
            var expect = new Expectation([413], NoAnswerOk: size >= 1 << 20);
            yield return new HttpCase("over the limit", $"{size} B declared", Completions, body, expect);
            yield return new HttpCase("over the limit", $"{size} B chunked", Completions, body, expect) { Chunked = true };
            var chat = Utf8($"{{\"messages\": [{{\"role\": \"user\", \"content\": \"{new string('b', size)}\"}}]}}");
            yield return new HttpCase("over the limit", $"{size} B chat", Chat, chat, expect);
        }
        var auth = "Authorization: " + HttpCase.ValidAuth;
        var small = Utf8(Body(Completions));
        foreach (var cl in new[] { "1000000000000", "9223372036854775807" })
            yield return new RawCase("over the limit", $"Content-Length {cl}", RawHttp.Request("POST", Completions, [auth, $"Content-Length: {cl}"], small, contentLength: false),
                RawMode.Read, new Expectation([413]));
        foreach (var cl in new[] { "99999999999999999999999", "-1", "1e3", "0x10", "12 34", "" })
            yield return new RawCase("over the limit", $"Content-Length '{cl}'", RawHttp.Request("POST", Completions, [auth, $"Content-Length: {cl}"], small, contentLength: false),
                RawMode.Read, new Expectation([400], NoAnswerOk: true, EmptyBodyOk: true));
        yield return new RawCase("over the limit", "two different Content-Lengths", RawHttp.Request("POST", Completions,
            [auth, $"Content-Length: {small.Length}", "Content-Length: 5"], small, contentLength: false), RawMode.Read, new Expectation([400], NoAnswerOk: true, EmptyBodyOk: true));
        // A chunked body whose chunk sizes lie or overflow (RFC 9112 §7.1).
        foreach (var chunk in new[] { "FFFFFFFFFFFFFFFFFFFF\r\n", "zz\r\nab\r\n0\r\n\r\n", "-5\r\nabcde\r\n0\r\n\r\n", "20000\r\n" + new string('c', 70_000) + "\r\n0\r\n\r\n", "5;" + new string('e', 10_000) + "\r\nabcde\r\n0\r\n\r\n" })
            yield return new RawCase("over the limit", $"chunk {Short(chunk.Replace("\r\n", "\\r\\n"))}", RawHttp.Request("POST", Completions,
                [auth, "Transfer-Encoding: chunked"], RawHttp.Ascii(chunk), contentLength: false), RawMode.Read, new Expectation([400, 413], NoAnswerOk: true, EmptyBodyOk: true));
        // Headers past Kestrel's limits: 8 KiB request line, 32 KiB of headers, 100 headers.
        yield return new RawCase("over the limit", "20 KiB path", RawHttp.Request("GET", "/" + new string('p', 20_000), [], []), RawMode.Read, new Expectation([414], EmptyBodyOk: true, NoAnswerOk: true));
        yield return new RawCase("over the limit", "40 KiB header", RawHttp.Request("GET", "/health", ["X-Big: " + new string('h', 40_000)], []), RawMode.Read, new Expectation([431], EmptyBodyOk: true, NoAnswerOk: true));
        yield return new RawCase("over the limit", "200 headers", RawHttp.Request("GET", "/health", Enumerable.Range(0, 200).Select(i => $"X-H{i}: {i}"), []), RawMode.Read, new Expectation([431], EmptyBodyOk: true, NoAnswerOk: true));
    }

    /// <summary>Random bytes as a JSON body behind valid headers, and random bytes instead of an HTTP request (ended by a blank line, so nothing waits for a timeout).</summary>
    public static IEnumerable<HostileCase> RandomBytes(Random rng)
    {
        for (var i = 0; i < 80; i++)
        {
            var body = new byte[rng.Next(1, 4096)];
            rng.NextBytes(body);
            yield return new HttpCase("random bytes", $"body #{i} ({body.Length} B)", i % 2 == 0 ? Completions : Chat, body, Expectation.Bad(null));
        }
        for (var i = 0; i < 70; i++)
        {
            var junk = new byte[rng.Next(1, 2048)];
            rng.NextBytes(junk);
            // Half of them after a valid request line, so the header parser is what sees the junk.
            byte[] wire = i % 2 == 0 ? [.. junk, .. "\r\n\r\n"u8] : [.. "POST /v1/completions HTTP/1.1\r\n"u8, .. junk, .. "\r\n\r\n"u8];
            yield return new RawCase("random bytes", $"wire #{i} ({junk.Length} B)", wire, RawMode.Read, new Expectation([400, 408, 414, 431], EmptyBodyOk: true));
        }
    }

    /// <summary>Methods a route does not take (405 with Allow, RFC 9110 §15.5.6), odd content types (the body is JSON whatever they say), and odd paths.</summary>
    public static IEnumerable<HostileCase> WrongMethodTypeOrPath()
    {
        foreach (var path in new[] { Completions, Chat })
            foreach (var method in new[] { "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO" })
                yield return new HttpCase("wrong method, type or path", $"{method} {path}", path, method == "GET" ? [] : Utf8(Body(path)), new Expectation([405])) { Method = method };
        foreach (var path in new[] { "/v1/models", "/health", "/" })
            foreach (var method in new[] { "POST", "PUT", "DELETE" })
                yield return new HttpCase("wrong method, type or path", $"{method} {path}", path, Utf8("{}"), new Expectation([405])) { Method = method };
        foreach (var path in new[] { Completions, Chat })
            foreach (var type in new[] { "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1",
                         "garbage;;;", "application/xml", "", "application/json; charset=utf-16" })
                yield return new HttpCase("wrong method, type or path", $"{path} Content-Type '{type}'", path, Utf8(Body(path)), Expectation.Served) { ContentType = type };
        foreach (var path in new[] { Completions, Chat })
            yield return new HttpCase("wrong method, type or path", $"{path} no Content-Type", path, Utf8(Body(path)), Expectation.Served) { ContentType = null };
        string[] notFound =
        [
            "/v1", "/v1/", "/v2/completions", "/v1/completion", "/v1/completions/x", "/v1/chat", "/v1/engines/awq/completions", "/favicon.ico",
            "/v1/completions.json", "/robots.txt", "/index.html", "/v1/models/awq", "/.env", "/%00", "/v1/completions%00", "/a%2fb",
            "/" + new string('x', 4000), "/v1/%c0%af", "/%ff%fe",
        ];
        foreach (var path in notFound)
            // Kestrel refuses some percent-encodings itself (a NUL, bytes that decode to no UTF-8) before routing.
            yield return new HttpCase("wrong method, type or path", $"POST {Short(path)}", path, Utf8(Body(Completions)),
                path.Contains('%') ? new Expectation([400, 404], EmptyBodyOk: true) : new Expectation([404]));
        // Paths that name a route in another spelling: served.
        foreach (var path in new[] { "/V1/Completions", "/v1/completions?x=1", "/v1/completions/", "/v1/./completions", "/v1/x/../completions", "/v1/%63ompletions" })
            yield return new HttpCase("wrong method, type or path", $"POST {path}", path, Utf8(Body(Completions)), new Expectation([200, 404, 429]));
        // Request targets in the other forms (RFC 9112 §3.2): absolute-form is served; asterisk-form and authority-form are not for POST.
        var auth = "Authorization: " + HttpCase.ValidAuth;
        var body = Utf8(Body(Completions));
        yield return new RawCase("wrong method, type or path", "absolute-form", RawHttp.Request("POST", "http://127.0.0.1/v1/completions", [auth], body), RawMode.Read, Expectation.Served);
        yield return new RawCase("wrong method, type or path", "asterisk-form POST", RawHttp.Request("POST", "*", [auth], body), RawMode.Read, new Expectation([400, 404, 405], EmptyBodyOk: true));
        yield return new RawCase("wrong method, type or path", "asterisk-form OPTIONS", RawHttp.Request("OPTIONS", "*", [], []), RawMode.Read, new Expectation([204, 400, 404, 405], EmptyBodyOk: true));
        yield return new RawCase("wrong method, type or path", "authority-form", RawHttp.Request("CONNECT", "127.0.0.1:1", [], []), RawMode.Read, new Expectation([400, 404, 405], EmptyBodyOk: true));
        yield return new RawCase("wrong method, type or path", "no leading slash", RawHttp.Request("POST", "v1/completions", [auth], body), RawMode.Read, new Expectation([400], EmptyBodyOk: true));
        yield return new RawCase("wrong method, type or path", "fragment", RawHttp.Request("POST", "/v1/completions#x", [auth], body), RawMode.Read, new Expectation([400, 404], EmptyBodyOk: true));
        yield return new RawCase("wrong method, type or path", "HEAD /v1/completions", RawHttp.Request("HEAD", Completions, [auth], []), RawMode.Read, new Expectation([405], EmptyBodyOk: true));
        yield return new RawCase("wrong method, type or path", "HEAD /", RawHttp.Request("HEAD", "/", [], []), RawMode.Read, new Expectation([200, 405], EmptyBodyOk: true));
    }

    /// <summary>Credentials missing, wrong, in another scheme or garbled (RFC 6750 §2.1, RFC 9110 §11); a right key in another case of "Bearer" is a right key (§11.1: the scheme is case-insensitive).</summary>
    public static IEnumerable<HostileCase> BadAuth()
    {
        string?[] wrong =
        [
            null, "", "Bearer", "Bearer ", "Bearer wrong", "Bearer test-key2", "Bearer test-ke", "Bearer TEST-KEY", "Basic dGVzdC1rZXk=", "test-key",
            "Token test-key", "Bearer " + new string('k', 8000), "Bearer\ttest-key", "Bearer test-key,Bearer x", "Bearertest-key", "Bearer test key",
            "Bearer =test-key", "Bearer test-key ,", "Bearer test-keyx",
        ];
        foreach (var path in new[] { Completions, Chat, "/v1/models" })
            foreach (var auth in wrong)
                yield return new HttpCase("bad auth", $"{path} Authorization {(auth == null ? "missing" : $"'{Short(auth)}'")}", path, path == "/v1/models" ? [] : Utf8(Body(path)),
                    new Expectation([401])) { Auth = auth, Method = path == "/v1/models" ? "GET" : "POST" };
        // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, the scheme matched case-insensitively (RFC 9110 §11.1).
        foreach (var auth in new[] { "bearer test-key", "BEARER test-key", "BeArEr test-key", "Bearer   test-key" })
            yield return new HttpCase("bad auth", $"Authorization '{auth}'", Completions, Utf8(Body(Completions)), Expectation.Served) { Auth = auth };
        // On the wire: two Authorization fields, bytes outside ASCII, a bare CR.
        var body = Utf8(Body(Completions));
        yield return new RawCase("bad auth", "two Authorization fields", RawHttp.Request("POST", Completions, ["Authorization: Bearer wrong", "Authorization: " + HttpCase.ValidAuth], body), RawMode.Read, new Expectation([400, 401]));
        yield return new RawCase("bad auth", "Latin-1 bytes", [.. RawHttp.Request("POST", Completions, ["Authorization: Bearer t\u00e9st\u00ff"], body)], RawMode.Read, new Expectation([400, 401], EmptyBodyOk: true));
        yield return new RawCase("bad auth", "UTF-8 bytes", [.. "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "u8, .. Utf8("κλειδί"), .. Utf8($"\r\nContent-Length: {body.Length}\r\n\r\n"), .. body], RawMode.Read, new Expectation([400, 401], EmptyBodyOk: true));
        yield return new RawCase("bad auth", "NUL byte", [.. "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-key\0\r\n"u8, .. Utf8($"Content-Length: {body.Length}\r\n\r\n"), .. body], RawMode.Read, new Expectation([400, 401], EmptyBodyOk: true));
        yield return new RawCase("bad auth", "bare CR", [.. "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\rtest-key\r\n"u8, .. Utf8($"Content-Length: {body.Length}\r\n\r\n"), .. body], RawMode.Read, new Expectation([400, 401], EmptyBodyOk: true));
        yield return new RawCase("bad auth", "obs-fold", [.. "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n test-key\r\n"u8, .. Utf8($"Content-Length: {body.Length}\r\n\r\n"), .. body], RawMode.Read, new Expectation([400, 401], EmptyBodyOk: true));
    }

    /// <summary>
    /// Bodies that stop before their Content-Length (or before the last chunk), then a FIN (Kestrel takes
    /// the half-close for the client leaving, so an answer is optional), a close, or a reset. Bodies that
    /// stop and stay open are among <see cref="SlowClients"/> (a 408 within the body timeout).
    /// </summary>
    public static IEnumerable<HostileCase> TruncatedBodies(Random rng)
    {
        var auth = "Authorization: " + HttpCase.ValidAuth;
        for (var i = 0; i < 80; i++)
        {
            var path = i % 3 == 0 ? Chat : Completions;
            var body = Utf8(Body(path, maxTokens: 8));
            var sent = rng.Next(0, body.Length);
            var claimed = body.Length + rng.Next(1, i % 4 == 0 ? 1 << 20 : 1000);
            var chunked = i % 5 == 4;
            var head = chunked ? new[] { auth, "Transfer-Encoding: chunked" } : [auth, $"Content-Length: {Math.Min(claimed, HostileServer.BodyLimit)}"];
            var payload = chunked ? RawHttp.Ascii($"{body.Length:X}\r\n").Concat(body[..sent]).ToArray() : body[..sent];
            var mode = (i % 3) switch { 0 => RawMode.HalfCloseThenRead, 1 => RawMode.Close, _ => RawMode.Reset };
            yield return new RawCase("truncated bodies", $"{path} {sent} of {(chunked ? "a chunk" : claimed.ToString())} B, {mode}",
                RawHttp.Request("POST", path, head, payload, contentLength: false), mode,
                mode == RawMode.HalfCloseThenRead ? new Expectation([400], NoAnswerOk: true) : Expectation.Gone);
        }
    }

    /// <summary>Not quite HTTP/1.1: bad versions, request lines, header syntax and framing (RFC 9112 §2-§6; request smuggling shapes).</summary>
    public static IEnumerable<HostileCase> MalformedHttp()
    {
        var body = Utf8(Body(Completions));
        var auth = "Authorization: " + HttpCase.ValidAuth;
        string[] heads =
        [
            "GET /health HTTP/9.9\r\n\r\n", "GET /health HTTP/1.1\r\n\r\n", "GET /health\r\n\r\n", "GET  /health  HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /health HTTP/1.1\nHost: x\n\n", "get /health HTTP/1.1\r\nHost: x\r\n\r\n", "GET /health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
            "GET /health HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n", "GET /health HTTP/1.1\r\nHost: x\r\nX-A : y\r\n\r\n", "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET /health HTTP/1.0\r\n\r\n", "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "GET /he\0alth HTTP/1.1\r\nHost: x\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n", "GET /health HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
            "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
            "POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", "POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
            "GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", "GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            "GET /health HTTP/1.1\r\nHost:\r\n\r\n", "GET /health HTTP/1.1\r\nHost: [::1\r\n\r\n", "GET /health HTTP/1.1\r\nHost: x:99999\r\n\r\n",
            "GET http://evil/health HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", "GET /health HTTP/1.1\r\nHost: x\r\nX\x7f: y\r\n\r\n",
        ];
        foreach (var head in heads)
            yield return new RawCase("malformed http", Short(head.Replace("\r", "\\r").Replace("\n", "\\n")), RawHttp.Ascii(head), RawMode.Read,
                new Expectation([200, 400, 401, 404, 405, 411, 413, 426, 505], NoAnswerOk: true, EmptyBodyOk: true));
        // Framing two ways at once (RFC 9112 §6.1: Transfer-Encoding overrides Content-Length; a smuggling vector).
        yield return new RawCase("malformed http", "Content-Length and chunked", [.. RawHttp.Ascii($"POST /v1/completions HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n{body.Length:X}\r\n"), .. body, .. "\r\n0\r\n\r\n"u8],
            RawMode.Read, new Expectation([200, 400, 429], NoAnswerOk: true, EmptyBodyOk: true));
        yield return new RawCase("malformed http", "chunked then a smuggled request", [.. RawHttp.Ascii($"POST /v1/completions HTTP/1.1\r\nHost: x\r\n{auth}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGARBAGE /x HTTP/1.1\r\n\r\n")],
            RawMode.Read, new Expectation([400], NoAnswerOk: true, EmptyBodyOk: true));
        // Several requests pipelined on one connection (RFC 9112 §9.3), the last one broken.
        yield return new RawCase("malformed http", "pipelined, last broken", [.. RawHttp.Request("GET", "/health", [], []), .. RawHttp.Request("POST", Completions, [auth], body), .. "BROKEN\r\n\r\n"u8],
            RawMode.Read, new Expectation([200], NoAnswerOk: true));
        foreach (var n in new[] { 1, 5, 30 })
            yield return new RawCase("malformed http", $"{n} requests pipelined", Enumerable.Range(0, n).SelectMany(_ => RawHttp.Request("POST", Completions, [auth], body)).ToArray(),
                RawMode.Read, new Expectation([200, 429], NoAnswerOk: true));
    }

    /// <summary>Clients that hang up: before reading a JSON answer, after the first bytes of a stream, with a reset instead of a FIN, or at once after sending.</summary>
    public static IEnumerable<HostileCase> Disconnects(Random rng)
    {
        var auth = "Authorization: " + HttpCase.ValidAuth;
        for (var i = 0; i < 100; i++)
        {
            var path = i % 2 == 0 ? Completions : Chat;
            var stream = i % 4 < 2;
            var body = Utf8(Body(path, $"\"max_tokens\": {rng.Next(50, 250)}, \"ignore_eos\": true" + (stream ? ", \"stream\": true" : ""), maxTokens: 0));
            var mode = (i % 5) switch { 0 or 1 => RawMode.CloseAfterFirstBytes, 2 => RawMode.ResetAfterFirstBytes, _ => RawMode.Close };
            if (!stream && mode != RawMode.Close) mode = RawMode.Close;
            yield return new RawCase("disconnects", $"{path} {(stream ? "stream" : "json")} {mode}", RawHttp.Request("POST", path, [auth], body), mode, Expectation.Gone);
        }
    }
}
