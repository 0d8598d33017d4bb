import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** One line of a chart. */
export type Line = { label: string; color: string; values: (number | null)[] };

/**
 * A small time-series chart (uPlot on a canvas): `times` in seconds since the epoch, one line per
 * series. It follows its container's width; the figures beside it carry the same numbers as text.
 */
export function TimeChart({ title, times, lines, unit }: { title: string; times: number[]; lines: Line[]; unit: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const labels = lines.map((line) => line.label).join('|');

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const chart = new uPlot(
      {
        width: Math.max(element.clientWidth, 200),
        height: 140,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{ stroke: '#555' }, { stroke: '#555', size: 50, values: (_u, ticks) => ticks.map((tick) => `${tick}${unit}`) }],
        series: [{}, ...lines.map((line) => ({ label: line.label, stroke: line.color, width: 2, points: { show: false } }))],
      },
      [times, ...lines.map((line) => line.values)],
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(element.clientWidth, 200), height: 140 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // A chart is rebuilt only when its lines change; new points go through setData below.
  }, [labels, unit]);

  useEffect(() => {
    plot.current?.setData([times, ...lines.map((line) => line.values)]);
  });

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${lines.map((line) => `${line.label} ${line.values.at(-1) ?? 'no data'}${unit}`).join(', ')}`} />
    </figure>
  );
}
