/**
 * The app's stylesheet, served at `/assets/inventory.css` (the Content-Security-Policy allows
 * styles from the app's own origin only, so there are no inline styles anywhere).
 *
 * @module
 */

/** The stylesheet's path. */
export const STYLESHEET_PATH = '/assets/inventory.css';

export const STYLESHEET = `
:root {
  --ink: #1d2433; --muted: #5d6678; --line: #dde2ea; --paper: #ffffff; --wash: #f4f6fa;
  --brand: #3949ab; --brand-dark: #283593; --good: #1b7f4b; --warn: #b26a00; --bad: #c62828;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--wash);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--brand); }
header.bar { background: var(--brand-dark); color: #fff; }
header.bar .inner { display: flex; align-items: center; gap: 1.5rem; max-width: 1100px; margin: 0 auto; padding: .75rem 1.25rem; flex-wrap: wrap; }
header.bar .brand { font-weight: 700; font-size: 1.1rem; color: #fff; text-decoration: none; }
header.bar .brand small { font-weight: 400; opacity: .75; margin-left: .4rem; }
header.bar nav { display: flex; gap: 1rem; flex: 1; }
header.bar nav a { color: #dfe3ff; text-decoration: none; padding: .25rem 0; border-bottom: 2px solid transparent; }
header.bar nav a.active, header.bar nav a:hover { color: #fff; border-bottom-color: #fff; }
header.bar .who { display: flex; align-items: center; gap: .75rem; font-size: .9rem; color: #dfe3ff; }
header.bar .who button { background: transparent; color: #fff; border: 1px solid #8f9ae0; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
.muted { color: var(--muted); }
.card { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem; margin-bottom: 1.25rem; overflow-x: auto; }
.narrow-left { max-width: 640px; }
time { white-space: nowrap; }
.grid { display: grid; gap: 1.25rem; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); align-items: start; }
.stats { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); margin-bottom: 1.25rem; }
.stat { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem; }
.stat .label { color: var(--muted); font-size: .85rem; text-transform: uppercase; letter-spacing: .04em; }
.stat .value { font-size: 1.7rem; font-weight: 700; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .5rem .6rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:hover { background: #fafbfe; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
.badge.low { background: #fff3e0; color: var(--warn); }
.badge.out { background: #ffebee; color: var(--bad); }
.badge.in { background: #e8f5e9; color: var(--good); }
.badge.adjustment { background: #e8eaf6; color: var(--brand); }
.badge.role { background: #eef0f7; color: var(--ink); font-weight: 500; }
form.stack { display: grid; gap: .8rem; }
form.inline { display: flex; gap: .5rem; align-items: end; flex-wrap: wrap; }
form.inline.compact { align-items: center; flex-wrap: nowrap; gap: .4rem; margin: 0; }
form.inline.compact input { flex: 1; min-width: 7rem; }
form.inline.compact input, form.inline.compact select, td button { padding: .3rem .55rem; height: 2.1rem; }
input.invalid { border-color: var(--bad); }
input[type=file] { padding: .4rem; }
label { display: grid; gap: .25rem; font-weight: 600; font-size: .9rem; }
label .hint { font-weight: 400; color: var(--muted); font-size: .8rem; }
input, select { font: inherit; font-weight: 400; padding: .5rem .6rem; border: 1px solid #c3c9d5; border-radius: 6px; background: #fff; min-width: 0; }
input:not([type=file]), select { height: 2.4rem; }
input:focus, select:focus { outline: 2px solid #9fa8da; border-color: var(--brand); }
.field-error { color: var(--bad); font-weight: 400; font-size: .85rem; }
label.invalid input, label.invalid select { border-color: var(--bad); }
.row { display: grid; gap: .8rem; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); }
.address { display: flex; align-items: center; gap: .25rem; }
.address input { flex: 1; }
.address .muted { font-weight: 400; }
form.stack > button { justify-self: start; }
button { font: inherit; font-weight: 600; padding: .5rem 1rem; border-radius: 6px; border: 1px solid var(--brand); background: var(--brand); color: #fff; cursor: pointer; }
button:hover { background: var(--brand-dark); }
button.secondary { background: #fff; color: var(--brand); }
button.danger { background: var(--bad); border-color: var(--bad); }
.notice { background: #e8f5e9; border: 1px solid #a5d6a7; color: #1b5e20; padding: .6rem 1rem; border-radius: 8px; margin-bottom: 1rem; }
.error-box { background: #ffebee; border: 1px solid #ef9a9a; color: #b71c1c; padding: .6rem 1rem; border-radius: 8px; margin-bottom: 1rem; }
.hero { text-align: center; padding: 2rem 1rem 1rem; }
.hero h1 { font-size: 2.2rem; margin-bottom: .25rem; }
.narrow { max-width: 460px; margin: 0 auto; }
.empty { color: var(--muted); font-style: italic; }
code.pill { background: #eef0f7; border-radius: 6px; padding: .15rem .45rem; font-size: .95rem; letter-spacing: .05em; }
.actions { display: flex; gap: .5rem; align-items: center; }
nav.actions { margin-top: .75rem; }
footer { text-align: center; color: var(--muted); font-size: .85rem; padding: 1rem; }
`;
