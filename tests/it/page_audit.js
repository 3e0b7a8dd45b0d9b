// The page audit's checks, run in the page through WebDriver's execute/sync (which the page's
// Content-Security-Policy does not apply to). Returns a list of problems, each a sentence.
const problems = [];

const describe = (el) => {
  let name = el.tagName.toLowerCase();
  if (el.id) name += "#" + el.id;
  else if (typeof el.className === "string" && el.className.trim()) name += "." + el.className.trim().split(/\s+/).join(".");
  const text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 40);
  return text ? `${name} "${text}"` : name;
};

// Horizontal scrolling: the page wider than the window, and the outermost elements sticking out
// (those inside a scrolling box such as a table's wrapper do not count).
const root = document.documentElement;
if (root.scrollWidth > window.innerWidth) {
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll("*")].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > window.innerWidth + 0.5 && !clipped(el);
  });
  const set = new Set(wide);
  const outer = wide.filter((el) => !set.has(el.parentElement)).slice(0, 5).map(describe);
  problems.push(`horizontal scrolling: the page is ${root.scrollWidth}px wide in a ${window.innerWidth}px window` +
    (outer.length ? ` (sticking out: ${outer.join(", ")})` : ""));
}

// Form controls without an accessible name: <label for>, a wrapping <label>, aria-label,
// aria-labelledby; a button's own text names it, and so does a submit input's value.
const hasText = (el) => !!el && (el.textContent || "").trim() !== "";
for (const c of document.querySelectorAll("input:not([type=hidden]), select, textarea, button")) {
  const type = (c.getAttribute("type") || "").toLowerCase();
  const named =
    (c.tagName === "BUTTON" && hasText(c)) ||
    (c.tagName === "INPUT" && ["submit", "reset", "button"].includes(type) && (c.value || "").trim() !== "") ||
    (c.getAttribute("aria-label") || "").trim() !== "" ||
    (c.getAttribute("aria-labelledby") || "").split(/\s+/).some((id) => id && hasText(document.getElementById(id))) ||
    [...(c.labels || [])].some(hasText);
  if (!named) problems.push(`a form control without a label: ${describe(c)}`);
}

// Text contrast: each visible element with text of its own, its colour against the first
// opaque background up the tree (semi-transparent ones blended in), WCAG 2 relative luminance.
const rgba = (css) => {
  const m = css.match(/^rgba?\(([^)]*)\)$/);
  if (!m) return null;
  const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
};
const over = (top, below) => ({
  r: top.r * top.a + below.r * (1 - top.a),
  g: top.g * top.a + below.g * (1 - top.a),
  b: top.b * top.a + below.b * (1 - top.a),
  a: 1,
});
const background = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const bg = rgba(getComputedStyle(e).backgroundColor);
    if (bg && bg.a > 0) {
      layers.push(bg);
      if (bg.a >= 1) break;
    }
  }
  // Under everything, the canvas: white.
  return layers.reverse().reduce((below, top) => over(top, below), { r: 255, g: 255, b: 255, a: 1 });
};
const luminance = ({ r, g, b }) => {
  const lin = (c) => {
    c /= 255;
    return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
};
const hex = ({ r, g, b }) => "#" + [r, g, b].map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");
const low = new Map();
for (const el of document.body.querySelectorAll("*")) {
  if (["SCRIPT", "STYLE", "OPTION", "NOSCRIPT"].includes(el.tagName)) continue;
  const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== "");
  if (!own) continue;
  const style = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  // Hidden, or a screen-reader-only text (1px, clipped): nothing to read on screen.
  if (style.visibility !== "visible" || style.display === "none" || r.width <= 1 || r.height <= 1) continue;
  if (Number(style.opacity) === 0) continue;
  const bg = background(el);
  const fg0 = rgba(style.color);
  if (!fg0) {
    problems.push(`cannot read the text colour ${style.color} of ${describe(el)}`);
    continue;
  }
  const fg = over(fg0, bg);
  const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
  const ratio = (l1 + 0.05) / (l2 + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  const needed = large ? 3 : 4.5;
  if (ratio < needed) {
    const key = `${hex(fg)} on ${hex(bg)}: ${ratio.toFixed(2)}:1, needs ${needed}:1`;
    if (!low.has(key)) low.set(key, []);
    low.get(key).push(describe(el));
  }
}
for (const [key, els] of low) {
  problems.push(`text contrast too low, ${key} (${els.slice(0, 3).join(", ")}${els.length > 3 ? `, and ${els.length - 3} more` : ""})`);
}

return problems;
