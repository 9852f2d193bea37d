namespace AwqRuntime.Server;

/// <summary>
/// The chat page at GET /: plain HTML and JavaScript over the same streaming API the clients use
/// (POST /v1/chat/completions with stream: true, read as server-sent events). No build step.
/// </summary>
internal static class ChatPage
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>AwqRuntime chat</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
  #log .msg { white-space: pre-wrap; margin: .5rem 0; padding: .5rem .75rem; border-radius: .5rem; }
  #log .user { background: #e8f0fe; }
  #log .assistant { background: #f1f3f4; }
  form { display: flex; gap: .5rem; margin-top: 1rem; }
  #input { flex: 1; padding: .5rem; }
  #status { color: #666; font-size: .85rem; min-height: 1.2em; }
</style>
</head>
<body>
<h1>AwqRuntime chat</h1>
<div id="log"></div>
<form id="form">
  <input id="input" autocomplete="off" placeholder="Say something" autofocus>
  <button id="send" type="submit">Send</button>
  <button id="reset" type="button">Reset</button>
</form>
<div id="status"></div>
<script>
const log = document.getElementById('log'), input = document.getElementById('input');
const status = document.getElementById('status');
let messages = [];
function add(role, text) {
  const div = document.createElement('div');
  div.className = 'msg ' + role;
  div.textContent = text;
  log.appendChild(div);
  return div;
}
document.getElementById('reset').onclick = () => { messages = []; log.textContent = ''; status.textContent = ''; };
document.getElementById('form').onsubmit = async (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  messages.push({ role: 'user', content: text });
  add('user', text);
  const out = add('assistant', '');
  out.id = 'answer-' + messages.length;
  status.textContent = 'generating…';
  let answer = '';
  try {
    const res = await fetch('/v1/chat/completions', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages, stream: true, max_tokens: 256 }),
    });
    if (!res.ok) { const err = await res.json(); throw new Error(err.error.message); }
    const reader = res.body.getReader(), decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') continue;
        const delta = JSON.parse(data).choices[0]?.delta?.content;
        if (delta) { answer += delta; out.textContent = answer; }
      }
    }
    messages.push({ role: 'assistant', content: answer });
    status.textContent = 'done';
  } catch (err) {
    status.textContent = 'error: ' + err.message;
  }
};
</script>
</body>
</html>
""";
}
