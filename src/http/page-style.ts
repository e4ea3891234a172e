/** The inspector page's stylesheet: no external assets, readable from a phone to a wall screen. */
export const PAGE_STYLE = `
:root{--ok:#1a7f37;--warn:#b35900;--bad:#cf222e;--info:#0969da;--muted:#656d76;--bg:#f6f8fa;--fg:#1f2328;
--card:#fff;--line:#d0d7de;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--card:#161b22;--line:#30363d;--muted:#8d96a0}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;gap:.4rem .8rem;align-items:center;padding:.7rem 1rem;background:var(--card);
border-bottom:1px solid var(--line);position:sticky;top:0;z-index:1}
h1{font-size:1.05rem;margin:0 .4rem 0 0}
.badge{padding:.1rem .55rem;border-radius:1rem;font-weight:600;font-size:.78rem;color:#fff;background:var(--muted)}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}
#counts,#conn{color:var(--muted);font-size:.85rem}
#conn{margin-left:auto}
main{padding:.75rem;display:grid;gap:.6rem;grid-template-columns:repeat(auto-fill,minmax(min(100%,21rem),1fr))}
.row{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--muted);border-radius:6px;
padding:.55rem .75rem;min-width:0}
.st-ready{border-left-color:var(--ok)}.st-restored{border-left-color:var(--info)}
.st-degraded{border-left-color:var(--warn);background:color-mix(in srgb,var(--warn) 7%,var(--card))}
.st-failed,.st-stale{border-left-color:var(--bad);background:color-mix(in srgb,var(--bad) 8%,var(--card))}
.head{display:flex;flex-wrap:wrap;gap:.2rem .6rem;align-items:baseline}
.name{font-weight:600;overflow-wrap:anywhere}
.status{font-size:.72rem;font-weight:700;letter-spacing:.04em;text-transform:uppercase;color:var(--muted)}
.st-ready .status{color:var(--ok)}.st-restored .status{color:var(--info)}.st-degraded .status{color:var(--warn)}
.st-failed .status,.st-stale .status{color:var(--bad)}
.since,.crit{color:var(--muted);font-size:.8rem}
.head button{margin-left:auto}
.bar{position:relative;height:6px;border-radius:3px;background:var(--line);margin:.45rem 0;overflow:hidden}
.fill{position:absolute;left:0;top:0;bottom:0;width:0;background:var(--ok)}
.fill.warn{background:var(--warn)}.fill.bad{background:var(--bad)}
.mark{position:absolute;top:0;bottom:0;width:2px;background:var(--fg);opacity:.45}
.facts{display:flex;flex-wrap:wrap;gap:.15rem .9rem;align-items:center;font-size:.8rem;color:var(--muted)}
.facts b{color:var(--fg);font-weight:500;font-variant-numeric:tabular-nums}
.spark{width:84px;height:22px;color:var(--info);margin-left:auto}
.spark polyline{fill:none;stroke:currentColor;stroke-width:1.5}
.errors{margin:.4rem 0 0;padding:0;list-style:none;font-size:.8rem;color:var(--bad)}
.errors li{overflow-wrap:anywhere}.errors time{color:var(--muted);margin-right:.4rem}
.value{margin:.4rem 0 0;max-height:7rem;overflow:auto;font-size:.75rem;background:var(--bg);padding:.3rem;border-radius:4px}
button{font:inherit;font-size:.78rem;padding:.1rem .5rem;border:1px solid var(--line);border-radius:4px;
background:var(--bg);color:var(--fg);cursor:pointer}
footer{padding:0 1rem 1rem;color:var(--muted);font-size:.8rem}
`
