#!/usr/bin/env python3
"""Prints the channel-reduction table of a sweep's summary.json: per gate and lambda, test
accuracy, kept units per gate layer and multiply-adds (means over seeds). Standard library only."""
import json
import sys

summary = json.load(open(sys.argv[1]))["summary"]
print("| gate | lambda | test accuracy % | kept units per layer (input; hidden...) | hidden kept | MACs |")
print("|---|---|---|---|---|---|")
for c in summary["cells"]:
    kept = c["units_kept"]
    hidden = sum(kept[1:]) if len(kept) > 1 else sum(kept)
    print(f"| {c['gate']} | {c['lambda']} | {100 * c['test_score']['mean']:.1f} +- {100 * c['test_score']['std']:.1f} "
          f"| {' / '.join(f'{k:.1f}' for k in kept)} | {hidden:.1f} | {c['macs']:.0f} |")
