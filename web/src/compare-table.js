// The compare view's summary table: one row per run (the keys that differ, status, step and epoch, test
// losses, the IWAE bound, active units, seconds trained), sorted by any column; a row opens its run.
export const COLUMNS = [
  ['label', 'run'], ['status', 'status'], ['step', 'step'], ['epoch', 'epoch'], ['lastTest', 'last test loss'],
  ['bestTest', 'best test loss'], ['iwae', 'IWAE'], ['activeUnits', 'active units'], ['seconds', 'seconds trained'],
];


/**
 * Draws {@code rows} ({num, color, ...summary}) into {@code table}, sorted by {@code sort} ({key, dir});
 * {@code onSort(key)} runs when a column's header is pressed, {@code onOpenRun(num)} when a row is.
 */
export function renderSummary(table, rows, sort, onSort, onOpenRun) {
  table.innerHTML = '';
  const head = table.createTHead().insertRow();
  for (const [key, title] of COLUMNS) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.setAttribute('aria-sort', sort.key === key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = title;
    b.onclick = () => onSort(key);
    th.append(b);
    head.append(th);
  }
  if (sort.key) {
    const k = sort.key, dir = sort.dir;
    rows.sort((a, b) => {
      const x = a[k], y = b[k];
      if (x == null || y == null) return x == null ? (y == null ? 0 : 1) : -1; // blanks last
      return (typeof x === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
    });
  }
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    tr.dataset.job = r.num;
    tr.tabIndex = 0;
    tr.title = 'open this run';
    for (const [key] of COLUMNS) {
      const td = tr.insertCell();
      const v = r[key];
      td.textContent = v == null ? '–' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v);
      if (key === 'label') td.style.borderLeft = `4px solid ${r.color}`;
    }
    tr.onclick = () => onOpenRun(r.num);
    tr.onkeydown = e => { if (e.key === 'Enter') onOpenRun(r.num); };
  }
}
