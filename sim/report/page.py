"""One self-contained HTML page: Plotly's library inlined once, figures as divs, tables that sort and filter.

Nothing is linked relatively and nothing is fetched from a network, so a report copied to another
folder or mailed still shows every chart. Time figures marked ``linked`` share their time range:
zooming one zooms the others (a few lines of JavaScript on Plotly's relayout event).
"""
from __future__ import annotations

import functools
import html
import itertools
import json

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1280px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;overflow-wrap:anywhere}
.sortable td,.sortable th,.compare td,.compare th{white-space:nowrap;overflow-wrap:normal}
th{background:#f4f4f4} .pass{color:#176a17;font-weight:bold} .fail{color:#b00;font-weight:bold} .muted{color:#777}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:1em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:110px;max-width:190px}
.card .v{font-size:20px;font-weight:600} .card .k{font-size:12px;color:#444}
.card .d{font-size:11px;color:#777;margin-top:2px}
.fig{border:1px solid #eee;margin:.6em 0}
.scroll{max-width:100%;max-height:min(70vh,640px);overflow:auto;border:1px solid #ddd}
.scroll table{margin:0} .sortable th{position:sticky;top:0;cursor:pointer;user-select:none;z-index:1}
.sortable th:after{content:" \\2195";color:#aaa} .sortable th.asc:after{content:" \\2191";color:#222}
.sortable th.desc:after{content:" \\2193";color:#222}
.tools{margin:.6em 0 .3em} .tools input{width:22em;padding:3px 6px}
"""

TABLE_JS = """
function setupTables(){
  document.querySelectorAll('div.sortable').forEach(function(box){
    var data=JSON.parse(box.querySelector('script.rows').textContent), order=data, view=data, shown=0, PAGE=1000;
    var table=box.querySelector('table'), body=table.tBodies[0], input=box.querySelector('input');
    var count=box.querySelector('.count'), more=box.querySelector('.more');
    function render(all){
      var end=all?view.length:Math.min(view.length,shown+PAGE), frag=document.createDocumentFragment();
      for(var i=shown;i<end;i++){var tr=document.createElement('tr');
        view[i].forEach(function(v){var td=document.createElement('td');td.textContent=v;tr.appendChild(td);});
        frag.appendChild(tr);}
      body.appendChild(frag); shown=end;
      count.textContent=view.length+' of '+data.length+' rows'+(shown<view.length?', '+shown+' shown':'');
      more.style.display=shown<view.length?'':'none';
    }
    function refresh(){var q=input.value.toLowerCase();
      view=q?order.filter(function(r){return r.join('\\u0001').toLowerCase().indexOf(q)>=0}):order;
      body.textContent='';shown=0;render(false);}
    input.addEventListener('input',refresh);
    more.querySelector('.page').addEventListener('click',function(){render(false)});
    more.querySelector('.all').addEventListener('click',function(){render(true)});
    function key(t){var v=parseFloat(t.replace(/,/g,''));
      return (t!==''&&isFinite(v)&&/^[-+]?[0-9.,]+(e[-+]?[0-9]+)?$/i.test(t))?[0,v]:[t===''?2:1,t];}
    Array.from(table.tHead.rows[0].cells).forEach(function(th,i){th.addEventListener('click',function(){
      var asc=!th.classList.contains('asc');
      Array.from(th.parentNode.cells).forEach(function(c){c.classList.remove('asc','desc')});
      th.classList.add(asc?'asc':'desc');
      var keyed=data.map(function(r){return [key(r[i]),r]});
      keyed.sort(function(a,b){var x=a[0],y=b[0];
        var c=x[0]-y[0]||(x[1]<y[1]?-1:x[1]>y[1]?1:0);return asc?c:-c;});
      order=keyed.map(function(k){return k[1]});refresh();});});
    refresh();
  });
}
"""

LINK_JS = """
function linkTimeAxes(){
  var plots=Array.from(document.querySelectorAll('div.linked .js-plotly-plot')), busy=false;
  function xaxes(gd){return Object.keys(gd.layout).filter(function(k){return /^xaxis[0-9]*$/.test(k)});}
  plots.forEach(function(gd){gd.on('plotly_relayout',function(ev){
    if(busy)return; var r=null, auto=false;
    Object.keys(ev).forEach(function(k){
      var m=k.match(/^xaxis[0-9]*\\.range\\[([01])\\]$/); if(m){r=r||[];r[+m[1]]=ev[k];}
      if(/^xaxis[0-9]*\\.range$/.test(k))r=ev[k]; if(/^xaxis[0-9]*\\.autorange$/.test(k))auto=true;});
    if(!r&&!auto)return; busy=true;
    Promise.all(plots.filter(function(o){return o!==gd}).map(function(o){var u={};
      xaxes(o).forEach(function(a){if(r&&r.length===2){u[a+'.range']=[r[0],r[1]];}else{u[a+'.autorange']=true;}});
      return Plotly.relayout(o,u);})).then(function(){busy=false},function(){busy=false});
  });});
}
window.addEventListener('load',function(){setupTables();linkTimeAxes();});
"""

CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png", "scale": 2}}
_ids = itertools.count()


@functools.cache
def plotly_js() -> str:
    """The Plotly library, inlined once per page (about 4.7 MB) so the page needs no network."""
    return get_plotlyjs()


def figure_div(fig: go.Figure, linked: bool = False) -> str:
    """A figure as a div (no library: the page carries it once); ``linked`` joins the shared time range."""
    inner = pio.to_html(fig, full_html=False, include_plotlyjs=False, config=CONFIG,
                        div_id=f"fig{next(_ids)}", default_width="100%")
    return f'<div class="fig{" linked" if linked else ""}">{inner}</div>'


def _cell_text(v: object) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, float):
        return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 1e6 else f"{v:,.2f}"
    return str(v)


def sortable_table(df: pd.DataFrame, what: str) -> str:
    """Every row of ``df`` in a scrolling box (fits any page width) with a filter box and sortable columns.

    The rows travel as JSON and the browser draws a thousand at a time ("show more", "show all"):
    a year's 61,140 orders as HTML cells would take a browser minutes to lay out; filter and sort
    always work on every row.
    """
    if not len(df):
        return "<p class=muted>none</p>"
    shown = df.copy()
    for col in shown.columns:  # times to the millisecond, the same way in every column
        if isinstance(shown[col].dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(shown[col]):
            shown[col] = shown[col].dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = [[_cell_text(v) for v in row] for row in shown.itertuples(index=False, name=None)]
    data = json.dumps(rows, ensure_ascii=False).replace("</", "<\\/")  # never closes its script element
    label = html.escape(f"filter {what}")
    return (f'<div class=sortable><div class=tools><input type=search placeholder="{label}: text in any column" '
            f'aria-label="{label}"> <span class="count muted"></span>'
            f' <span class=muted>(click a column to sort)</span></div>'
            f"<div class=scroll><table><thead><tr>{head}</tr></thead><tbody></tbody></table></div>"
            f"<div class=more><button type=button class=page>show more</button> "
            f"<button type=button class=all>show all</button></div>"
            f'<script type="application/json" class=rows>{data}</script></div>')


def page(title: str, body: str) -> str:
    """The whole document: styles, the Plotly library once, the body, then the table and axis scripts."""
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{CSS}</style><script>{plotly_js()}</script></head><body>{body}"
            f"<script>{TABLE_JS}{LINK_JS}</script></body></html>")
