"""The page of ``newsclean report``: one self-contained HTML page of plots over the output tables.

Everything is inline (CSS, a few lines of JS, SVG drawn in Python by ``reports.svg``), so the
page opens from a ``file://`` URL with no network and can be mailed or attached as it is.

Shape: ``reports.queries.load_tables(storage)`` -> frames; ``reports.queries.build_report(frames)``
-> ``Report``; ``render_html(report)`` -> str (pure). ``flows.report.write_report(root, dest)``
does all three over the tables under ``root`` and writes the file atomically.
"""

from __future__ import annotations

from reports.model import PLOTS, WIDE_PLOTS, Report, Series
from reports.svg import GROUP_COLOURS, escape, plot_svg


def _legend(series: Series) -> str:
    seen = set(series.groups)
    items = "".join(f'<span class="key"><i style="background:{c}"></i>{escape(g)}</span>' for g, c in GROUP_COLOURS.items() if g in seen)
    return f'<div class="legend">{items}</div>' if items else ""


CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2933;background:#f4f5f7}
header{padding:22px 32px 8px}
h1{margin:0;font-size:24px}
.sub{color:#616e7c;margin:4px 0 0}
main{padding:8px 32px 32px;max-width:1280px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:12px 0 20px}
.tile{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.tile .n{font-size:26px;font-weight:650;line-height:1.15;overflow-wrap:anywhere}
.tile .n.small{font-size:17px;padding-top:6px}
.tile .l{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#52606d}
.tile .s{font-size:12px;color:#7b8794}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.panel{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08);min-width:0}
.panel h2{font-size:16px;margin:0}
.panel .why{color:#616e7c;font-size:13px;margin:2px 0 8px}
.panel .note{color:#7b8794;font-size:12px;margin:6px 0 0}
.panel svg{display:block;width:100%;height:auto}
.nodata{display:flex;align-items:center;justify-content:center;height:140px;border:1px dashed #cbd2d9;border-radius:6px;color:#9aa5b1;font-size:15px}
svg text{font-size:12px;fill:#3e4c59;font-family:inherit}
svg .value{fill:#52606d}
svg .tick{fill:#7b8794;font-size:11px}
svg .grid{stroke:#e4e7eb;stroke-width:1}
svg .axis{stroke:#9aa5b1;stroke-width:1}
svg rect.mark:hover{opacity:.75}
.legend{font-size:12px;color:#52606d;margin-top:6px}
.legend .key{margin-right:14px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.wide{grid-column:1/-1}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{color:#52606d;font-weight:600;background:#f9fafb}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.title{max-width:520px}
a{color:#2f5d8a;text-decoration:none}
a:hover{text-decoration:underline}
footer{color:#9aa5b1;font-size:12px;padding:0 32px 24px}
"""

# After load: count the drawn marks of every plot (non-empty boxes on screen, after transforms
# and CSS; getBBox would ignore both) and write the
# result on <body data-render="ok|fail" data-plots-drawn=N data-plots-total=M>, for the
# headless-browser check and for anyone reading the footer.
CHECK_JS = """
(function(){
  var svgs=document.querySelectorAll('svg.plot'),drawn=0;
  svgs.forEach(function(s){
    var n=0,r=s.getBoundingClientRect();
    if(r.width>0&&r.height>0)s.querySelectorAll('.mark').forEach(function(m){var b=m.getBoundingClientRect();if(b.width>0&&b.height>0)n++;});
    s.setAttribute('data-drawn',n);if(n>0)drawn++;
  });
  var b=document.body;b.setAttribute('data-plots-total',svgs.length);b.setAttribute('data-plots-drawn',drawn);
  b.setAttribute('data-render',drawn===svgs.length?'ok':'fail');
  var f=document.getElementById('render-status');if(f)f.textContent=drawn+' of '+svgs.length+' plots drawn';
})();
"""


def _panel(key: str, title: str, why: str, series: Series) -> str:
    title = series.title or title
    if series.empty:
        body = f'<div class="nodata" data-plot="{escape(key)}">no data</div>'
    else:
        body = plot_svg(key, series, title) + (_legend(series) if key == "edits_by_kind" else "")
    note = f'<p class="note">{escape(series.note)}</p>' if series.note else ""
    wide = " wide" if key in WIDE_PLOTS else ""
    return f'<section class="panel{wide}" id="{escape(key)}"><h2>{escape(title)}</h2><p class="why">{escape(why)}</p>{body}{note}</section>'


def _recent_table(report: Report) -> str:
    if not report.recent:
        return '<div class="nodata" data-plot="recent">no articles yet</div>'
    numeric = {"words", "copies", "edits", "boilerplate lines"}
    head = "".join(f'<th class="num">{escape(c)}</th>' if c in numeric else f"<th>{escape(c)}</th>" for c in report.columns)
    rows = []
    for r in report.recent:
        cells = []
        for c in report.columns:
            if c == "title":
                title = escape(r["title"])
                link = r["url"] if r["url"].startswith(("http://", "https://")) else ""
                cells.append(f'<td class="title"><a href="{escape(link)}" rel="noopener noreferrer">{title}</a></td>' if link else f'<td class="title">{title}</td>')
            elif c in numeric:
                cells.append(f'<td class="num">{r[c]:,}</td>')
            else:
                cells.append(f"<td>{escape(r[c])}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _recent_why(n: int) -> str:
    return f"The {n} most recently ingested articles." if n > 1 else "The most recently ingested articles."


def render_html(report: Report) -> str:
    """The whole page as one string: inline CSS, inline SVG, one inline script; no URLs fetched."""
    tiles = "".join(
        f'<div class="tile"><div class="l">{escape(label)}</div><div class="n{" small" if len(value) > 12 else ""}">{escape(value)}</div>'
        f'<div class="s">{escape(small)}</div></div>'
        for label, value, small in report.headline
    )
    panels = "".join(_panel(key, title, why, report.plots[key]) for key, title, why in PLOTS)
    recent = (
        f'<section class="panel wide" id="recent"><h2>Recent articles</h2>'
        f'<p class="why">{escape(_recent_why(len(report.recent)))}</p>{_recent_table(report)}</section>'
    )
    stamp = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>newsclean report: {escape(report.output)}</title><style>{CSS}</style></head>"
        f'<body data-render="pending"><header><h1>newsclean report</h1>'
        f'<p class="sub">Tables under <code>{escape(report.output)}</code>, generated {stamp}.</p></header>'
        f'<main><div class="tiles">{tiles}</div><div class="grid">{panels}{recent}</div></main>'
        f'<footer>newsclean report &middot; <span id="render-status">plots not checked (scripts off)</span></footer>'
        f"<script>{CHECK_JS}</script></body></html>\n"
    )
