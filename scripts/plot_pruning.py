"""Plots test accuracy against forward time from the CSV of scripts/bench_pruning.py: one panel
per model, one point per lambda (labelled) and the unpruned model, at the median forward time with
quartile bars, and a hollow marker at the fastest pass; writes SVG (and PNG too when a
third path is given), and prints the CSV as a markdown table.
Usage: python plot_pruning.py CSV OUT.svg [OUT.png]
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = list(csv.DictReader(open(sys.argv[1])))
names = list(dict.fromkeys(r["model"] for r in rows))
titles = {"digits_cnn": "digits CNN (3 convs)", "resnet": "ResNet-18 (torchvision)"}

print("| model | lambda | test accuracy % | gated channels kept | parameters | multiply-adds per "
      "example | forward ms: median (quartiles), fastest | speed-up: median, fastest |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    base = [b for b in rows if b["model"] == r["model"] and not b["lambda"]][0]
    fastest = float(base["forward_ms_min"]) / float(r["forward_ms_min"])
    print(f"| {r['model']} | {r['lambda'] or 'unpruned'} | {100 * float(r['test_accuracy']):.1f} | "
          f"{r['channels_kept']} of {r['channels_total']} | {int(r['parameters']):,} | "
          f"{int(r['macs']):,} | {float(r['forward_ms']):.2f} ({float(r['forward_ms_q1']):.2f} - "
          f"{float(r['forward_ms_q3']):.2f}), {float(r['forward_ms_min']):.2f} | "
          f"{float(r['speedup']):.2f}x, {fastest:.2f}x |")

plt.rcParams.update({"font.size": 11, "svg.fonttype": "none", "svg.hashsalt": "stog"})
to_label = []  # per panel: its axes, its (lambda label, point) pairs, the points labels avoid
fig, axes = plt.subplots(1, len(names), figsize=(5.6 * len(names), 5.0), squeeze=False)
for ax, name in zip(axes[0], names):
    rs = [r for r in rows if r["model"] == name]
    base = [r for r in rs if not r["lambda"]][0]
    pruned = sorted((r for r in rs if r["lambda"]), key=lambda r: float(r["lambda"]))
    ms = [float(r["forward_ms"]) for r in pruned]
    acc = [100 * float(r["test_accuracy"]) for r in pruned]
    err = [[m - float(r["forward_ms_q1"]) for m, r in zip(ms, pruned)],
           [float(r["forward_ms_q3"]) - m for m, r in zip(ms, pruned)]]
    ax.errorbar(ms, acc, xerr=err, fmt="o-", color="tab:blue", capsize=3,
                label="pruned by stog: median, quartile bars")
    ax.plot([float(r["forward_ms_min"]) for r in pruned], acc, "o", mfc="none", color="tab:blue",
            alpha=0.6, label="pruned: fastest pass")
    bm = float(base["forward_ms"])
    # What a lambda label must not cover: the markers, the line, the quartile bars.
    ba = 100 * float(base["test_accuracy"])
    marks = list(zip(ms, acc)) + [(float(r["forward_ms_min"]), a) for r, a in zip(pruned, acc)]
    marks += [(bm, ba), (float(base["forward_ms_min"]), ba)]
    segments = list(zip(zip(ms, acc), zip(ms[1:], acc[1:])))
    segments += [((float(r["forward_ms_q1"]), a), (float(r["forward_ms_q3"]), a))
                 for r, a in zip(pruned, acc)]
    segments += [((float(base["forward_ms_q1"]), ba), (float(base["forward_ms_q3"]), ba))]
    obstacles = marks + [(p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
                         for p, q in segments for t in [i / 40 for i in range(41)]]
    texts = [(f"λ={float(r['lambda']):g}", (m, a)) for m, a, r in zip(ms, acc, pruned)]
    to_label.append((ax, texts, obstacles))
    ax.errorbar([bm], [100 * float(base["test_accuracy"])],
                xerr=[[bm - float(base["forward_ms_q1"])], [float(base["forward_ms_q3"]) - bm]],
                fmt="s", color="tab:red", markersize=8, capsize=3,
                label="unpruned: median, quartile bars")
    ax.plot([float(base["forward_ms_min"])], [100 * float(base["test_accuracy"])], "s",
            mfc="none", color="tab:red", markersize=8, alpha=0.6, label="unpruned: fastest pass")
    ax.set_xlim(0, 1.1 * max(ms + [float(base["forward_ms_q3"])]))
    low = min(acc + [100 * float(base["test_accuracy"])])
    bottom = min(low - 1.5, 95)
    ax.set_ylim(bottom, 101)  # room above 100 % for the labels
    ax.set_yticks([t for t in ax.get_yticks() if bottom <= t <= 100])
    ax.set_title(titles.get(name, name))
    ax.set_xlabel("forward ms, batch 256, 1 CPU thread")
    ax.set_ylabel("test accuracy %")
    ax.grid(alpha=0.3)
handles, labels = axes[0][0].get_legend_handles_labels()
order = [0, 2, 1, 3]  # medians on the first row of the legend, fastest passes on the second
fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower center", ncol=2,
           frameon=False)
fig.tight_layout(rect=(0, 0.13, 1, 1))


def place(ax, text, point, obstacles, placed):
    """Annotates `point` with a leader line, at the one of sixteen places around it (two rings)
    whose box, padded by 4 points, stays in the panel and covers the fewest obstacles and earlier
    labels."""
    renderer = fig.canvas.get_renderer()
    shown = ax.transData.transform(obstacles)
    frame = ax.get_window_extent(renderer)
    spots = [(0, 16, "center", "bottom"), (0, -16, "center", "top"), (14, 14, "left", "bottom"),
             (14, -14, "left", "top"), (-14, 14, "right", "bottom"), (-14, -14, "right", "top"),
             (18, 0, "left", "center"), (-18, 0, "right", "center")]
    best = None
    for dx, dy, ha, va in spots + [(2 * dx, 2 * dy, ha, va) for dx, dy, ha, va in spots]:
        # Measured without the leader line (an annotation's box takes it in).
        label = ax.annotate(text, point, textcoords="offset points", xytext=(dx, dy), ha=ha,
                            va=va, fontsize=9)
        box = label.get_window_extent(renderer).padded(4 * fig.dpi / 72)
        inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
        cost = box.count_contains(shown) + 100 * sum(box.overlaps(b) for b in placed)
        cost += 0 if inside else 1000
        label.remove()
        if best is None or cost < best[0]:
            best = (cost, dx, dy, ha, va, box)
    _, dx, dy, ha, va, box = best
    ax.annotate(text, point, textcoords="offset points", xytext=(dx, dy), ha=ha, va=va,
                fontsize=9, arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.6,
                                        "shrinkA": 1, "shrinkB": 4})
    placed.append(box)


for ax, texts, obstacles in to_label:
    placed = []
    for text, point in texts:
        place(ax, text, point, obstacles, placed)
for path in sys.argv[2:]:
    fig.savefig(path, metadata={"Date": None} if path.endswith(".svg") else None)
