// The console works without this file; it adds copy buttons, progress on long posts,
// confirmations, live expiry countdowns and opening the AWS console link.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent);
        button.textContent = "Copied";
      } catch (e) {
        button.textContent = "Copy failed: select the text";
      }
    });
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  for (const form of document.querySelectorAll("form[data-busy]")) {
    form.addEventListener("submit", (event) => {
      if (event.defaultPrevented) return;
      form.setAttribute("aria-busy", "true");
      for (const button of form.querySelectorAll("button[type=submit]")) {
        button.disabled = true;
        button.textContent = form.dataset.busyText || "Working…";
      }
    });
  }
  const countdowns = document.querySelectorAll("time[data-countdown]");
  const tick = () => {
    for (const t of countdowns) {
      const left = Math.round((Date.parse(t.getAttribute("datetime")) - Date.now()) / 1000);
      if (Number.isNaN(left)) continue;
      if (left <= 0) { t.textContent = "due now"; continue; }
      const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      t.textContent = "in " + (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
    }
  };
  if (countdowns.length) { tick(); setInterval(tick, 1000); }
  const open = document.querySelector("a[data-auto-open]");
  if (open) window.location.replace(open.href);
});
