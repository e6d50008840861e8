"""Writes OUT_DIR/test.csv: the test rows as the models take them (stog's test_inputs.csv: the
digits standardised on the training rows, flattened), with their `target` class.
Usage: python test_rows.py OUT_DIR
"""
import csv
import os
import sys

out = sys.argv[1]
inputs = list(csv.reader(open(os.path.join(out, "stog", "test_inputs.csv"))))
split = list(csv.DictReader(open(os.path.join(out, "split.csv"))))
test = sorted(int(r["row"]) for r in split if r["split"] == "test")
data = list(csv.reader(open("data/digits.csv")))[1:]
if len(inputs) != len(test):
    sys.exit(f"{len(inputs)} test inputs for {len(test)} test rows")
with open(os.path.join(out, "test.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow([f"x{i}" for i in range(len(inputs[0]))] + ["target"])
    for row, i in zip(inputs, test):
        w.writerow(row + [data[i][-1]])
