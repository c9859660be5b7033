// fieldvault field app: the few things that need a clock or the address bar.
// Everything works without this file (plain form posts); it only makes it nicer.

const revealedNodes = new Set();

function hide(node) {
  node.replaceChildren();
  node.hidden = true;
  revealedNodes.delete(node);
}

function countdown(node, value, seconds) {
  const label = node.dataset.hiddenIn || "Hidden in";
  const shown = document.createElement("p");
  shown.className = "secret-value";
  shown.textContent = value;
  const clock = document.createElement("p");
  clock.className = "countdown";
  const bar = document.createElement("progress");
  bar.max = seconds;
  bar.value = seconds;
  bar.setAttribute("aria-hidden", "true");
  node.replaceChildren(shown, clock, bar);
  node.hidden = false;
  revealedNodes.add(node);
  let left = seconds;
  const tick = () => {
    clock.textContent = `${label} ${left} s`;
    bar.value = left;
  };
  tick();
  const timer = setInterval(() => {
    left -= 1;
    if (left <= 0) {
      clearInterval(timer);
      hide(node);
    } else {
      tick();
    }
  }, 1000);
}

async function reveal(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const item = form.closest(".code");
  const shown = item.querySelector(".revealed");
  const problem = item.querySelector(".reveal-error");
  const button = form.querySelector("button");
  problem.hidden = true;
  button.disabled = true;
  try {
    const answer = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
    });
    if (answer.type === "opaqueredirect") {
      window.location.assign("/signin?ended=1");
      return;
    }
    const body = await answer.json();
    if (body.instructions_url) {
      // The data-handling instructions must be acknowledged first; they bring us back here.
      const page = body.instructions_url.split("?")[0];
      window.location.assign(`${page}?next=${encodeURI(window.location.pathname)}`);
      return;
    }
    if (answer.ok) {
      countdown(shown, body.value, body.hide_after_seconds);
    } else {
      problem.textContent = body.error;
      problem.hidden = false;
    }
  } catch {
    form.submit();
  } finally {
    button.disabled = false;
  }
}

function acceptInvitation() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  const field = document.getElementById("token");
  if (!token || !field) return;
  field.value = token;
  field.closest(".token-field").hidden = true;
  // The token leaves the address bar (and so history) at once.
  history.replaceState(null, "", window.location.pathname);
}

for (const form of document.querySelectorAll(".reveal-form")) {
  form.addEventListener("submit", reveal);
}
acceptInvitation();

// Leaving the page (or its being put in the back/forward cache) takes every shown code
// with it.
window.addEventListener("pagehide", () => {
  for (const node of [...revealedNodes]) hide(node);
});

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}

// Office: a secret shown once (API client, webhook) gets a copy button; the value
// stays only in this page.
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = button.dataset.copied || "Copied";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(source);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }
  });
}

// Office reports: a print button (the page's print style leaves the navigation out).
for (const button of document.querySelectorAll("button[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
