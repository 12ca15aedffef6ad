"""Two small browser widgets drawn by the browser itself (Vue templates).

- ``NetworkCanvas`` draws the organisations and their partnerships on a
  canvas: thousands of ties in a few strokes, hover tooltips computed in the
  browser (no round trip), a click selects an organisation (synced back to
  Python as ``selected``).
- ``EChart`` draws an ECharts option. ECharts is loaded from solara's local
  asset cache (``/_solara/cdn/echarts@5.4.0``, shipped by solara-assets), so
  nothing is fetched from the internet.

Both set ``data-month`` on their element once they have drawn a month; the
browser tests and the latency benchmark wait on it.
"""

from __future__ import annotations

import ipyvue
import traitlets

_LOAD_SCRIPT = r"""
        cdn() {
            if (window.solara && window.solara.cdn) return window.solara.cdn.replace(/\/$/, '');
            return './_solara/cdn';
        },
        loadRequire() {
            if (window.requirejs) return Promise.resolve();
            return new Promise((resolve, reject) => {
                const script = document.createElement('script');
                script.src = `${this.cdn()}/requirejs@2.3.6/require.js`;
                script.onload = resolve;
                script.onerror = reject;
                document.head.appendChild(script);
            });
        },
        loadEcharts() {
            if (window.icsEcharts) return window.icsEcharts;
            window.icsEcharts = this.loadRequire().then(() => new Promise((resolve, reject) => {
                window.requirejs([`${this.cdn()}/echarts@5.4.0/dist/echarts.min.js`], resolve, reject);
            }));
            return window.icsEcharts;
        },
"""

CHART_TEMPLATE = r"""
<template>
    <div :class="['ics-chart', css_class]" :data-month="drawn_month"
         :style="height > 0 ? `width: 100%; height: ${height}px;` : 'width: 100%; height: 100%;'">
        <div ref="chart" style="width: 100%; height: 100%;"></div>
    </div>
</template>
<script>
module.exports = {
    data() {
        return { drawn_month: -1 };
    },
    mounted() {
        this.loadEcharts().then(echarts => {
            if (this._isDestroyed) return;
            this.chart = echarts.init(this.$refs.chart, null, { renderer: 'canvas' });
            this.apply();
            this.resizer = new ResizeObserver(() => { if (this.chart) this.chart.resize(); });
            this.resizer.observe(this.$el);
        });
    },
    beforeDestroy() {
        if (this.resizer) this.resizer.disconnect();
        if (this.chart) this.chart.dispose();
        this.chart = null;
    },
    watch: {
        option_json() { this.apply(); },
    },
    methods: {
        apply() {
            if (!this.chart || !this.option_json) return;
            this.chart.setOption(JSON.parse(this.option_json), true);
            this.drawn_month = this.month;
        },
""" + _LOAD_SCRIPT + r"""
    },
};
</script>
"""

NETWORK_TEMPLATE = r"""
<template>
    <div class="ics-network" :data-month="drawn_month" style="position: relative; width: 100%; height: 100%; overflow: hidden;">
        <canvas ref="canvas" style="display: block; width: 100%; cursor: crosshair;"
                @mousemove="onMove" @mouseleave="hover = -1" @click="onClick"></canvas>
        <div v-if="hover >= 0 && tip" class="ics-tip" :style="tipStyle">
            <div class="ics-tip-name">{{ tip.name }}</div>
            <div v-if="!tip.name.startsWith(tip.kind)" class="ics-tip-kind">{{ tip.kind }}</div>
            <table>
                <tr v-for="row in tip.rows" :key="row[0]">
                    <td>{{ row[0] }}</td><td class="ics-tip-value">{{ row[1] }}</td>
                </tr>
            </table>
            <div class="ics-tip-hint">Click to select</div>
        </div>
    </div>
</template>
<script>
module.exports = {
    data() {
        return { hover: -1, tipX: 0, tipY: 0, drawn_month: -1, widthPx: 800 };
    },
    computed: {
        structure() { return this.structure_json ? JSON.parse(this.structure_json) : null; },
        state() { return this.state_json ? JSON.parse(this.state_json) : null; },
        tip() {
            const s = this.structure, st = this.state, i = this.hover;
            if (!s || !st || st.id !== s.id || !st.info || i < 0 || i >= st.info.length) return null;
            const v = st.info[i];
            const rows = s.rows.map((label, k) => [label, v[k].toFixed(2)]);
            return { name: s.name[i], kind: s.kind[i], rows: rows };
        },
        tipStyle() {
            const left = this.tipX > this.widthPx * 0.6 ? this.tipX - 290 : this.tipX + 18;
            return `position: absolute; left: ${left}px; top: ${this.tipY + 12}px;`;
        },
    },
    mounted() {
        this.nodes = [];
        this.resizer = new ResizeObserver(() => this.schedule());
        this.resizer.observe(this.$el);
        this.onWindowResize = () => this.schedule();
        window.addEventListener('resize', this.onWindowResize);
        this.schedule();
    },
    beforeDestroy() {
        if (this.resizer) this.resizer.disconnect();
        window.removeEventListener('resize', this.onWindowResize);
    },
    watch: {
        structure_json() { this.schedule(); },
        state_json() { this.schedule(); },
        selected() { this.schedule(); },
    },
    methods: {
        schedule() {
            if (this.pending) return;
            this.pending = true;
            window.requestAnimationFrame(() => { this.pending = false; this.draw(); });
        },
        draw() {
            const s = this.structure, st = this.state, canvas = this.$refs.canvas;
            if (!canvas || !s || !st || !s.x || st.id !== s.id || st.level.length !== s.a.length) return;
            const cssW = Math.max(this.$el.clientWidth || 0, 200);
            // as wide as the column and as tall as the box the page gives it (one screen, no scrolling)
            const box = this.$el.clientHeight || 0;
            const cssH = Math.round(box >= 150 ? box : Math.min(cssW * Math.min(Math.max(s.aspect, 0.5), 1.2),
                                                                Math.max(380, window.innerHeight * 0.62)));
            const dpr = window.devicePixelRatio || 1;
            this.widthPx = cssW;
            canvas.width = Math.round(cssW * dpr);
            canvas.height = Math.round(cssH * dpr);
            canvas.style.height = cssH + 'px';
            const ctx = canvas.getContext('2d');
            ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
            ctx.fillStyle = '#ffffff';
            ctx.fillRect(0, 0, cssW, cssH);
            // fit the unit box into the canvas keeping the layout's proportions
            const scale = Math.min(cssW, cssH / s.aspect);
            const ox = (cssW - scale) / 2, oy = (cssH - scale * s.aspect) / 2;
            const X = i => ox + s.x[i] * scale, Y = i => oy + s.y[i] * scale * s.aspect;
            const n = s.x.length, nPairs = s.a.length;

            // place and ICS labels, under everything
            ctx.fillStyle = 'rgba(40, 40, 40, 0.75)';
            ctx.font = `bold ${Math.round(Math.max(16, cssW / 55))}px Roboto, Arial, sans-serif`;
            for (const [lx, ly, text, align, baseline] of s.labels) {
                ctx.textAlign = align;
                ctx.textBaseline = baseline;
                const half = ctx.measureText(text).width / 2;
                let x = ox + lx * scale;
                if (align === 'center') x = Math.min(Math.max(x, half + 4), cssW - half - 4);
                else if (align === 'left') x = Math.min(x, cssW - 2 * half - 4);   // a long name stays in view
                else if (align === 'right') x = Math.max(x, 2 * half + 4);
                ctx.fillText(text, x, Math.min(Math.max(oy + ly * scale * s.aspect, 16), cssH - 16));
            }

            // ties: one path per (level, width) bucket
            const thin = Math.min(1, Math.sqrt(500 / Math.max(nPairs, 1))) * Math.max(cssW / 900, 0.6);
            ctx.lineCap = 'round';
            for (let level = 0; level < 5; level++) {
                const buckets = new Map();
                for (let k = 0; k < nPairs; k++) {
                    if (st.level[k] !== level) continue;
                    const w = level === 0 ? 0.6 * thin : thin * (0.5 + 4.5 * st.trust[k] / 100);
                    const key = Math.round(w * 4) / 4;
                    if (!buckets.has(key)) buckets.set(key, []);
                    buckets.get(key).push(k);
                }
                ctx.strokeStyle = s.level_colours[level];
                ctx.globalAlpha = level === 0 ? 0.7 : 0.95;
                ctx.setLineDash(level === 0 ? [4, 4] : []);
                for (const [w, list] of buckets) {
                    ctx.lineWidth = Math.max(w, 0.25);
                    ctx.beginPath();
                    for (const k of list) {
                        ctx.moveTo(X(s.a[k]), Y(s.a[k]));
                        ctx.lineTo(X(s.b[k]), Y(s.b[k]));
                    }
                    ctx.stroke();
                }
            }
            ctx.globalAlpha = 1;
            ctx.setLineDash([]);

            // the selected organisation's ties
            const sel = this.selected;
            if (sel >= 0 && sel < n && st.size[sel] >= 0) {
                ctx.strokeStyle = '#ffb000';
                ctx.lineWidth = 3;
                ctx.beginPath();
                for (let k = 0; k < nPairs; k++) {
                    if (st.level[k] < 0 || (s.a[k] !== sel && s.b[k] !== sel)) continue;
                    ctx.moveTo(X(s.a[k]), Y(s.a[k]));
                    ctx.lineTo(X(s.b[k]), Y(s.b[k]));
                }
                ctx.stroke();
            }

            // organisations
            const active = st.size.filter(v => v >= 0).length;
            const rMax = Math.min(Math.max(cssW * (active <= 100 ? 0.03 : 0.03 * Math.sqrt(100 / active)), 3.5), 30);
            const rMin = rMax * 0.3;
            const nodes = [];
            ctx.lineWidth = active <= 200 ? 1.2 : 0.5;
            ctx.strokeStyle = '#111111';
            for (let i = 0; i < n; i++) {
                if (st.size[i] < 0) continue;
                const r = rMin + (rMax - rMin) * st.size[i];
                const x = X(i), y = Y(i);
                this.shapePath(ctx, s.shape ? s.shape[i] : 'circle', x, y, r);
                ctx.fillStyle = s.colour[i];
                ctx.fill();
                ctx.stroke();
                nodes.push([i, x, y, r]);
            }
            if (sel >= 0 && sel < n && st.size[sel] >= 0) {
                const r = rMin + (rMax - rMin) * st.size[sel];
                ctx.beginPath();
                ctx.arc(X(sel), Y(sel), r + 6, 0, 2 * Math.PI);
                ctx.strokeStyle = '#ffb000';
                ctx.lineWidth = 5;
                ctx.stroke();
            }
            this.nodes = nodes;
            this.drawn_month = st.month;
        },
        shapePath(ctx, shape, x, y, r) {
            // one shape per group of organisations, so kinds are told apart without colour
            ctx.beginPath();
            const poly = (k, turn, scale) => {
                for (let j = 0; j < k; j++) {
                    const a = turn + 2 * Math.PI * j / k;
                    const px = x + scale * r * Math.cos(a), py = y + scale * r * Math.sin(a);
                    if (j === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
                }
                ctx.closePath();
            };
            if (shape === 'square') poly(4, Math.PI / 4, 1.25);
            else if (shape === 'diamond') poly(4, 0, 1.3);
            else if (shape === 'triangle') poly(3, -Math.PI / 2, 1.4);
            else if (shape === 'hexagon') poly(6, 0, 1.15);
            else ctx.arc(x, y, r, 0, 2 * Math.PI);
        },
        nodeAt(event) {
            const x = event.offsetX, y = event.offsetY;
            let best = -1, bestD = Infinity;
            for (const [i, nx, ny, r] of this.nodes || []) {
                const d = Math.hypot(nx - x, ny - y);
                if (d <= Math.max(r, 6) + 2 && d < bestD) { best = i; bestD = d; }
            }
            return best;
        },
        onMove(event) {
            this.hover = this.nodeAt(event);
            this.tipX = event.offsetX;
            this.tipY = event.offsetY;
        },
        onClick(event) {
            this.selected = this.nodeAt(event);
        },
    },
};
</script>
<style id="ics-network-style">
.ics-tip {
    z-index: 10; pointer-events: none; min-width: 260px;
    background: rgba(255, 255, 255, 0.97); border: 2px solid #333; border-radius: 6px;
    padding: 8px 12px; font-size: 17px; line-height: 1.35; box-shadow: 0 2px 8px rgba(0,0,0,0.25);
}
.ics-tip-name { font-weight: bold; font-size: 18px; }
.ics-tip-kind { color: #555; margin-bottom: 4px; }
.ics-tip table { border-collapse: collapse; width: 100%; }
.ics-tip td { padding: 0 6px 0 0; }
.ics-tip-value { text-align: right; font-variant-numeric: tabular-nums; font-weight: bold; }
.ics-tip-hint { color: #555; font-size: 16px; margin-top: 4px; }
</style>
"""


# Large data travels as JSON text: the view's renderer (reacton) walks lists and
# dicts passed as properties looking for child elements, which is slow for
# thousands of numbers, while a string is passed on as it is.


class EChart(ipyvue.VueTemplate):
    """An ECharts chart; ``option_json`` is the chart's option, ``month`` the month it shows."""

    template = traitlets.Unicode(CHART_TEMPLATE).tag(sync=True)
    option_json = traitlets.Unicode("").tag(sync=True)
    month = traitlets.Int(-1).tag(sync=True)
    height = traitlets.Int(340).tag(sync=True)
    css_class = traitlets.Unicode("").tag(sync=True)


class NetworkCanvas(ipyvue.VueTemplate):
    """The network of organisations; ``selected`` is the clicked organisation's row (-1: none).

    ``structure_json`` and ``state_json`` are ``viz.network_data``'s dicts as JSON.
    """

    template = traitlets.Unicode(NETWORK_TEMPLATE).tag(sync=True)
    structure_json = traitlets.Unicode("").tag(sync=True)
    state_json = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)


MARKDOWN_TEMPLATE = r"""
<template>
    <div class="ics-info" v-html="html" @click="onClick"></div>
</template>
<script>
module.exports = {
    methods: {
        onClick(event) {
            const a = event.target.closest('a');
            if (!a) return;
            const href = a.getAttribute('href') || '';
            if (!href.startsWith('#')) return;
            event.preventDefault();
            const target = href.length > 1 ? this.$el.querySelector(`[id="${CSS.escape(href.slice(1))}"]`) : null;
            if (target) {
                target.scrollIntoView({ behavior: 'auto', block: 'start' });  // a heading on this page
            } else {
                this.link = href.slice(1) + '|' + Date.now();  // another tab (e.g. #odd)
                window.scrollTo(0, 0);
            }
        },
    },
};
</script>
"""


EXPORT_TEMPLATE = r"""
<template>
    <button class="ics-export-pictures v-btn v-btn--outlined theme--light v-size--default primary--text"
            type="button" @click="save">
        <span class="v-btn__content">{{ label }}</span>
    </button>
</template>
<script>
module.exports = {
    methods: {
        save() {
            // the network and every chart on screen, side by side in one picture, drawn in the browser
            const parts = [];
            const net = document.querySelector('.ics-network canvas');
            if (net && net.width) parts.push(net);
            for (const el of document.querySelectorAll('.ics-chart')) {
                const chart = el.__vue__ && el.__vue__.chart;
                const draw = chart && (chart.renderToCanvas || chart.getRenderedCanvas);
                if (draw) parts.push(draw.call(chart, { pixelRatio: window.devicePixelRatio || 1,
                                                        backgroundColor: '#ffffff' }));
            }
            if (!parts.length) return;
            const cols = parts.length > 2 ? 2 : parts.length;
            const cellW = Math.max(...parts.map(c => c.width));
            const rows = Math.ceil(parts.length / cols);
            const rowH = [];
            for (let r = 0; r < rows; r++) {
                rowH.push(Math.max(...parts.slice(r * cols, r * cols + cols).map(c => c.height)));
            }
            const out = document.createElement('canvas');
            out.width = cellW * cols;
            out.height = rowH.reduce((a, b) => a + b, 0);
            const ctx = out.getContext('2d');
            ctx.fillStyle = '#ffffff';
            ctx.fillRect(0, 0, out.width, out.height);
            let y = 0;
            parts.forEach((c, k) => {
                const r = Math.floor(k / cols), col = k % cols;
                if (col === 0 && r > 0) y += rowH[r - 1];
                ctx.drawImage(c, col * cellW, y);
            });
            const a = document.createElement('a');
            a.href = out.toDataURL('image/png');
            a.download = this.filename;
            document.body.appendChild(a);
            a.click();
            a.remove();
        },
    },
};
</script>
"""


class ExportPictures(ipyvue.VueTemplate):
    """A button that saves the network and the charts on screen as one PNG, made in the browser."""

    template = traitlets.Unicode(EXPORT_TEMPLATE).tag(sync=True)
    label = traitlets.Unicode("Pictures (PNG)").tag(sync=True)
    filename = traitlets.Unicode("ics-abm.png").tag(sync=True)


class MarkdownView(ipyvue.VueTemplate):
    """Rendered Markdown. A link to a heading on the page scrolls to it; any other
    ``#name`` link (``#odd``) sets ``link`` to ``"name|<time>"`` for Python to act on."""

    template = traitlets.Unicode(MARKDOWN_TEMPLATE).tag(sync=True)
    html = traitlets.Unicode("").tag(sync=True)
    link = traitlets.Unicode("").tag(sync=True)
