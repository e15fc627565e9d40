"""``report.html``: one self-contained page a person reads instead of opening the Hubble UI.

No network at all: inline CSS and JS, system fonts, the data embedded as JSON
(``<script type="application/json">``, ``</`` escaped). Sections: summary, nodes and GPUs, every
check with its evidence, the ops log, a filterable flow table (text filter + verdict select) and a
service map drawn by the page's script as inline SVG (drops in red). When the map is drawn the
script sets ``data-map-rendered="true"`` and ``data-map-nodes``/``data-map-edges`` on the map
container, which the headless-Chromium test reads from the DOM.
"""
from __future__ import annotations

import html
import json
from typing import Any

_CSS = """
:root{--ok:#1a7f37;--bad:#cf222e;--skip:#6e7781;--warn:#9a6700;--bg:#f6f8fa;--line:#d0d7de}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328}
header{background:#24292f;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header .sub{opacity:.8;font-size:13px}main{padding:16px 24px;max-width:1400px}
section{margin:20px 0}h2{font-size:17px;border-bottom:1px solid var(--line);padding-bottom:4px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:var(--bg)}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px}
.pass,.FORWARDED,.applied{background:var(--ok)}.fail,.DROPPED,.failed{background:var(--bad)}
.skip,.skipped{background:var(--skip)}.needs,.rendered,.AUDIT,.REDIRECTED{background:var(--warn)}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:22px}details{margin:2px 0}ul.ev{margin:2px 0 2px 16px;padding:0}
#flowfilter{padding:4px 8px;width:320px}#verdict{padding:4px}#map svg{width:100%;height:auto;background:#fff;border:1px solid var(--line)}
.legend span{margin-right:14px}a.flowref{margin-right:4px;text-decoration:none}
"""

_JS = r"""
(function(){
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  function el(tag, attrs, text){var e=document.createElement(tag);for(var k in attrs){e.setAttribute(k,attrs[k]);}if(text!==undefined){e.textContent=text;}return e;}
  // flow table
  var tbody=document.getElementById("flowrows"), filter=document.getElementById("flowfilter"), sel=document.getElementById("verdict");
  var counter=document.getElementById("flowcount");
  function drawFlows(){
    var q=filter.value.toLowerCase(), v=sel.value, shown=0;
    while(tbody.firstChild){tbody.removeChild(tbody.firstChild);}
    data.flows.forEach(function(r){
      if(v && r.verdict!==v){return;}
      var hay=[r.time,r.verdict,r.drop,r.src,r.src_ip,r.dst,r.dst_ip,r.port,r.summary,r.uuid,r.node,r.type].join(" ").toLowerCase();
      if(q && hay.indexOf(q)<0){return;}
      var tr=el("tr",{});
      [r.time,null,r.src+" ("+r.src_ip+")",r.dst+" ("+r.dst_ip+")",r.port,r.type+" "+r.direction,r.summary,r.uuid].forEach(function(c,i){
        var td=el("td",{});
        if(i===1){td.appendChild(el("span",{"class":"badge "+r.verdict},r.verdict));if(r.drop){td.appendChild(document.createTextNode(" "+r.drop));}}
        else{td.textContent=c;}
        tr.appendChild(td);
      });
      tbody.appendChild(tr);shown++;
    });
    counter.textContent=shown+" of "+data.flows.length+" flows";
  }
  filter.addEventListener("input",drawFlows);sel.addEventListener("change",drawFlows);drawFlows();
  Array.prototype.forEach.call(document.querySelectorAll("a.flowref"),function(a){
    a.addEventListener("click",function(){filter.value=a.getAttribute("data-flow");sel.value="";drawFlows();});
  });
  // service map
  var NS="http://www.w3.org/2000/svg", box=document.getElementById("map"), m=data.map;
  var W=1100, H=Math.max(520, 80+m.nodes.length*36), cx=W/2, cy=H/2, RX=W/2-240, RY=H/2-40;
  var svg=document.createElementNS(NS,"svg");svg.setAttribute("viewBox","0 0 "+W+" "+H);svg.setAttribute("role","img");
  var defs=document.createElementNS(NS,"defs");
  [["ok","#1a7f37"],["bad","#cf222e"]].forEach(function(p){
    var mk=document.createElementNS(NS,"marker");mk.setAttribute("id","arrow-"+p[0]);mk.setAttribute("viewBox","0 0 10 10");
    mk.setAttribute("refX","10");mk.setAttribute("refY","5");mk.setAttribute("markerWidth","7");mk.setAttribute("markerHeight","7");mk.setAttribute("orient","auto");
    var pa=document.createElementNS(NS,"path");pa.setAttribute("d","M0,0 L10,5 L0,10 z");pa.setAttribute("fill",p[1]);mk.appendChild(pa);defs.appendChild(mk);
  });
  svg.appendChild(defs);
  var pos={}, colors={world:"#8250df",reserved:"#6e7781"};
  m.nodes.forEach(function(n,i){var a=2*Math.PI*i/Math.max(1,m.nodes.length)-Math.PI/2;pos[n.id]={x:cx+RX*Math.cos(a),y:cy+RY*Math.sin(a)};});
  m.edges.forEach(function(e){
    var a=pos[e.source], b=pos[e.target]; if(!a||!b){return;}
    var dx=b.x-a.x, dy=b.y-a.y, len=Math.sqrt(dx*dx+dy*dy)||1, k=(len-12)/len;
    var line=document.createElementNS(NS,"line");
    line.setAttribute("x1",a.x);line.setAttribute("y1",a.y);line.setAttribute("x2",a.x+dx*k);line.setAttribute("y2",a.y+dy*k);
    line.setAttribute("stroke",e.dropped?"#cf222e":"#1a7f37");line.setAttribute("stroke-width",e.dropped?"2.5":"1.5");
    line.setAttribute("marker-end","url(#arrow-"+(e.dropped?"bad":"ok")+")");line.setAttribute("class","edge"+(e.dropped?" dropped":""));
    var t=document.createElementNS(NS,"title");t.textContent=e.source+" -> "+e.target+" "+e.port+" "+JSON.stringify(e.counts);line.appendChild(t);
    svg.appendChild(line);
  });
  m.nodes.forEach(function(n){
    var p=pos[n.id], g=document.createElementNS(NS,"g");g.setAttribute("class","node");
    var c=document.createElementNS(NS,"circle");c.setAttribute("cx",p.x);c.setAttribute("cy",p.y);c.setAttribute("r","9");
    c.setAttribute("fill",colors[n.group]||"#0969da");g.appendChild(c);
    var tx=document.createElementNS(NS,"text");tx.setAttribute("x",p.x+(p.x>=cx?13:-13));tx.setAttribute("y",p.y+4);
    tx.setAttribute("text-anchor",p.x>=cx?"start":"end");tx.setAttribute("font-size","12");tx.textContent=n.id;g.appendChild(tx);
    svg.appendChild(g);
  });
  box.appendChild(svg);
  box.setAttribute("data-map-nodes",String(m.nodes.length));
  box.setAttribute("data-map-edges",String(m.edges.length));
  box.setAttribute("data-map-rendered","true");
})();
"""

_STATUS_CLASS = {"pass": "pass", "fail": "fail", "skip": "skip", "needs Cilium/Hubble": "needs"}


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _badge(status: str) -> str:
    return f'<span class="badge {_STATUS_CLASS.get(status, _e(status.split()[0]))}">{_e(status)}</span>'


def _ev_list(items: list[tuple[str, list[str]]]) -> str:
    lis = []
    for label, xs in items:
        if not xs:
            continue
        if label == "flow":  # uuids link to the flow table, filtered to that flow
            links = " ".join(f'<a href="#flows" class="flowref" data-flow="{_e(x)}"><code>{_e(x)}</code></a>' for x in xs)
            lis.append(f"<li>flows ({len(xs)}): {links}</li>")
        else:
            lis += [f"<li>{_e(label)}: <code>{_e(x)}</code></li>" for x in xs]
    return f'<ul class="ev">{"".join(lis)}</ul>' if lis else ""


def render_html(*, title: str, summary: dict[str, Any], nodes: list[dict[str, Any]], checks: list[dict[str, Any]],
                ops: list[dict[str, Any]], flow_rows: list[dict[str, Any]], smap: dict[str, Any]) -> str:
    """The page. ``summary``: {ok, counts, backend, started, spec...}; the rest are plain dicts."""
    counts = summary.get("counts") or {}
    ok = summary.get("ok")
    verdict = "PASS" if ok else ("FAIL" if ok is False else "n/a")
    cards = "".join(f'<div class="card"><b>{_e(counts.get(k, 0))}</b>{_e(k)}</div>'
                    for k in ("pass", "fail", "skip", "needs Cilium/Hubble"))
    spec = summary.get("spec") or {}
    facts = " · ".join(f"{_e(k)}: {_e(v)}" for k, v in spec.items() if k != "pools")
    node_rows = "".join(
        f"<tr><td>{_e(n['name'])}</td><td>{_e(n['roles'])}</td><td>{'Ready' if n['ready'] else 'NotReady'}</td>"
        f"<td>{_e(n['ip'])}</td><td>{_e(n['pool'])}</td><td>{_e(n['gpus'])}</td><td>{_e(n['product'])}</td>"
        f"<td>{_e(n['memory'])}</td></tr>" for n in nodes)
    check_rows = "".join(
        f"<tr id=\"check-{_e(c['id'])}\"><td><code>{_e(c['id'])}</code></td><td>{_e(c['group'])}</td>"
        f"<td>{_e(c['title'])}</td><td>{_badge(c['status'])}</td><td>{_e(c['message'])}"
        + (f"<br><small>expected: {_e(c['expected'])}</small>" if c.get("expected") else "")
        + _ev_list([("flow", c.get("flow_ids") or []), ("event", c.get("events") or []), ("object", c.get("objects") or [])])
        + "</td></tr>" for c in checks)
    op_rows = "".join(
        f"<tr><td><code>{_e(o['timestamp'])}</code></td><td>{_e(o['phase'])}</td><td>{_e(o['step'])}</td>"
        f"<td>{_badge(o['action'])}</td><td>{_e(round(float(o['duration_s']), 3))}s</td><td>{_e(o['message'])}"
        + _ev_list([(k[:-1] if k.endswith("s") else k, v) for k, v in (o.get("evidence") or {}).items()])
        + "</td></tr>" for o in ops)
    verdict_opts = "".join(f'<option value="{_e(v)}">{_e(v)}</option>'
                           for v in sorted({r["verdict"] for r in flow_rows if r.get("verdict")}))
    payload = json.dumps({"flows": flow_rows, "map": smap}, sort_keys=True).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{_e(title)}</title><style>{_CSS}</style></head>
<body data-result="{_e(verdict)}">
<header><h1>{_e(title)} — {_badge('pass' if ok else 'fail') if ok is not None else ''} {_e(verdict)}</h1>
<div class="sub">backend {_e(summary.get('backend', ''))} · {_e(summary.get('started', ''))} · {facts}</div></header>
<main>
<section id="summary"><h2>Summary</h2><div class="cards">{cards}</div><p>{_e(summary.get('message', ''))}</p></section>
<section id="nodes"><h2>Nodes and GPUs</h2><table><thead><tr><th>node</th><th>roles</th><th>status</th><th>IP</th>
<th>pool</th><th>GPUs</th><th>product</th><th>memory (MiB)</th></tr></thead><tbody>{node_rows}</tbody></table></section>
<section id="checks"><h2>Checks</h2><table><thead><tr><th>id</th><th>group</th><th>check</th><th>status</th>
<th>evidence</th></tr></thead><tbody>{check_rows}</tbody></table></section>
<section id="servicemap"><h2>Service map</h2><p class="legend"><span style="color:#1a7f37">&#9632; forwarded</span>
<span style="color:#cf222e">&#9632; dropped</span><span style="color:#8250df">&#9679; world</span>
<span style="color:#0969da">&#9679; workload</span></p><div id="map"></div></section>
<section id="flows"><h2>Flows</h2><p><input id="flowfilter" type="search" placeholder="filter: pod, IP, port, uuid, summary">
<select id="verdict"><option value="">all verdicts</option>{verdict_opts}</select> <span id="flowcount"></span></p>
<table><thead><tr><th>time</th><th>verdict</th><th>source</th><th>destination</th><th>port</th><th>type</th>
<th>summary</th><th>uuid</th></tr></thead><tbody id="flowrows"></tbody></table></section>
<section id="opslog"><h2>Ops log</h2><table><thead><tr><th>time</th><th>phase</th><th>step</th><th>action</th>
<th>took</th><th>evidence</th></tr></thead><tbody>{op_rows}</tbody></table></section>
</main>
<script type="application/json" id="report-data">{payload}</script>
<script>{_JS}</script>
</body></html>
"""
