// Progressive enhancement only: every page works without this script.
"use strict";

// The access token's expiry countdown.
function tick(el) {
  const left = Math.round((Date.parse(el.dataset.expires) - Date.now()) / 1000);
  if (left <= 0) {
    el.textContent = "0s (expired: it will be refreshed on the next call)";
    return false;
  }
  const h = Math.floor(left / 3600), m = Math.floor(left / 60) % 60, s = left % 60;
  el.textContent = h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${String(s).padStart(2, "0")}s` : `${s}s`;
  return true;
}

document.addEventListener("DOMContentLoaded", () => {
  const countdown = document.getElementById("countdown");
  if (countdown && tick(countdown)) {
    const timer = setInterval(() => { if (!tick(countdown)) clearInterval(timer); }, 1000);
  }

  // The copy button of the revealed token (hidden when the clipboard API is
  // not available: the text can still be selected by hand).
  for (const button of document.querySelectorAll("[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(source.value);
      const done = document.getElementById("copied");
      if (done) done.hidden = false;
    });
  }
});
