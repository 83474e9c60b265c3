// 演示: keyboard navigation and the self-hiding control bar, for pages/present.py.
// Mounted as an st.components.v2 component in the app's own document. Keys: ←/→,
// PageUp/PageDown, Home/End, a number then Enter (jump), Esc (leave), P (pause / play).
// The wanted slide goes back to Python as the trigger "go"; Esc clicks the bar's 退出演示 link.
export default function (component) {
  const { setStateValue } = component;
  window.__mzSeq = window.__mzSeq || Date.now();
  const root = document.documentElement;
  const old = window.__mzPresent;
  if (old) old.cleanup();
  let typed = "";
  let hideTimer = null;
  const HIDE_MS = 3000;

  const busy = () =>
    document.querySelector('[data-testid="stPopoverBody"], [role="listbox"]') !== null ||
    document.querySelector(".st-key-bar:hover") !== null;
  const hideLater = () => {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => (busy() ? hideLater() : root.removeAttribute("data-mz-bar")), HIDE_MS);
  };
  const show = () => {
    root.setAttribute("data-mz-bar", "on");
    hideLater();
  };
  // Every move is sent as the slide to show ("to", 1-based), worked out from the slide on
  // screen: sending it again changes nothing, so a move the screen has not shown after 1.5 s
  // (a state set while the page is between runs can be lost) is sent again, up to 4 times.
  const shown = () => {
    const m = (document.querySelector(".mz-count")?.textContent || "").match(/(\d+)\s*\/\s*(\d+)/);
    return m ? [parseInt(m[1], 10), parseInt(m[2], 10)] : null;
  };
  let retry = null;
  let pending = null;
  const send = (action, n) => setStateValue("go", { action, n, seq: ++window.__mzSeq });
  const go = (action, n) => {
    clearTimeout(retry);
    if (action === "pause") return send("pause");
    const now = shown();
    if (!now) return;
    const [onScreen, total] = now;
    // a second press before the first one's slide is up counts from the slide on its way
    const at = pending !== null && pending !== onScreen ? pending : onScreen;
    const to = { next: at + 1, prev: at - 1, first: 1, last: total, to: n }[action];
    const target = Math.max(1, Math.min(total, to));
    if (target === onScreen) return;
    pending = target;
    send("to", target);
    let left = 4;
    const again = () => {
      const [still] = shown() || [target];
      if (still === target || left-- <= 0) return;
      send("to", target);
      retry = setTimeout(again, 1500);
    };
    retry = setTimeout(again, 1500);
  };
  const onKey = (event) => {
    const target = event.target;
    if (target && (target.closest("input, textarea, select, [contenteditable=true]") || busy())) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key;
    let handled = true;
    if (key === "ArrowRight" || key === "PageDown" || key === " ") go("next");
    else if (key === "ArrowLeft" || key === "PageUp") go("prev");
    else if (key === "Home") go("first");
    else if (key === "End") go("last");
    else if (/^[0-9]$/.test(key)) typed = (typed + key).slice(-3);
    else if (key === "Enter" && typed) {
      go("to", parseInt(typed, 10));
      typed = "";
    } else if (key === "Escape") {
      if (typed) typed = "";
      else document.querySelector('.st-key-bar [data-testid="stPageLink"] a')?.click();
    } else if (key === "p" || key === "P") go("pause");
    else handled = false;
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  };
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("mousemove", show, true);
  const cleanup = () => {
    document.removeEventListener("keydown", onKey, true);
    document.removeEventListener("mousemove", show, true);
    clearTimeout(hideTimer);
    clearTimeout(retry);
    if (window.__mzPresent && window.__mzPresent.cleanup === cleanup) delete window.__mzPresent;
  };
  window.__mzPresent = { cleanup };
  if (root.getAttribute("data-mz-bar") === "on") hideLater();
  return cleanup;
}
