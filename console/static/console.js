// yakkan console: the explanation follows the facts. The only script of the console,
// served from the package (the Content-Security-Policy allows no inline script).
// Without it every form still works: each change is then a submit of the whole page.
"use strict";
(function () {
  const form = document.getElementById("case-form");
  if (!form || !window.fetch) return;
  const status = document.getElementById("live-status");
  let seq = 0;
  let timer = null;

  function say(text) { if (status) status.textContent = text; }

  async function refresh() {
    const mine = ++seq;
    say("更新中…");
    try {
      const res = await fetch(form.dataset.live, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "Accept": "text/html" },
      });
      const html = await res.text();
      if (mine !== seq) return;  // a newer change is on its way
      const doc = new DOMParser().parseFromString(html, "text/html");
      const fresh = doc.getElementById("result");
      const old = document.getElementById("result");
      if (fresh && old) {
        old.replaceWith(document.adoptNode(fresh));
        say(res.ok ? "更新しました" : "入力を確認してください");
      } else {
        say("更新できませんでした（判断するを押してください）");
      }
    } catch (e) {
      if (mine === seq) say("更新できませんでした（判断するを押してください）");
    }
  }

  form.addEventListener("change", function (ev) {
    const t = ev.target;
    if (!t || !t.name) return;
    if (t.hasAttribute("data-reload")) {  // another document or date: another form
      form.requestSubmit();
      return;
    }
    if (t.name.startsWith("f:") || t.name === "title") {
      clearTimeout(timer);
      timer = setTimeout(refresh, 120);
    }
  });
})();
