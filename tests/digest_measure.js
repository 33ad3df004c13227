// Measurements of a rendered digest, returned to the browser test as JSON.
(() => {
  const parse = (s) => {
    const m = /rgba?\(([^)]*)\)/.exec(s || "");
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const background = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.push(e);
    let bg = [255, 255, 255, 1];
    for (const e of chain.reverse()) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) bg = over(c, bg);
    }
    return bg;
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  const texts = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || box.width === 0 || box.height === 0) continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [a, b] = [lum(fg), lum(bg)];
    texts.push({
      text: node.textContent.trim().slice(0, 60), tag: el.tagName,
      ratio: Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100,
      color: hex(fg), background: hex(bg), size: style.fontSize,
    });
  }
  const first = document.querySelector(".draft");
  const wrapped = [...document.querySelectorAll(".nowrap")]
    .filter((e) => e.getClientRects().length > 1).map((e) => e.textContent);
  const wide = [...document.body.querySelectorAll("*")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((e) => e.tagName + ":" + (e.textContent || "").trim().slice(0, 40)).slice(0, 10);
  return {
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    scale: window.visualViewport ? window.visualViewport.scale : 1,
    firstDraftY: first ? first.getBoundingClientRect().top + window.scrollY : null,
    firstDraftText: first ? first.textContent.trim().slice(0, 80) : null,
    height: document.documentElement.scrollHeight,
    wrapped, wide, texts,
    external: [...document.querySelectorAll("[src],link[href],[background]")].map((e) => e.outerHTML.slice(0, 80)),
    styleBlocks: document.querySelectorAll("style").length,
  };
})()
