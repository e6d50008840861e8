"""Trains the small CNN of tests/fixtures/make_script_cnn.py on data/digits.csv and saves it as
TorchScript with the gate protocol (cnn.pt) and with stage methods only (cnn_stages.pt).

Pixels are standardised per pixel on the training rows of stog's split (stratified 60/20/20,
seed 0, as `stog script` makes it), so the model sees what stog feeds it.
Usage: python train_cnn.py OUT_DIR
"""
import csv
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures"))
out_dir = sys.argv[1]
import make_script_cnn as fixture  # noqa: E402  (defines Cnn and CnnStages)

rows = list(csv.reader(open("data/digits.csv")))[1:]
x = torch.tensor([[float(v) for v in r[:-1]] for r in rows])
y = torch.tensor([int(r[-1]) for r in rows])
torch.manual_seed(0)
perm = torch.randperm(len(y))
train = perm[: int(0.6 * len(y))]
mean, std = x[train].mean(0), x[train].std(0, unbiased=False)
std[std == 0] = 1.0
xs = ((x - mean) / std).view(-1, 1, 8, 8)
model = fixture.Cnn()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for epoch in range(150):
    for idx in train[torch.randperm(len(train))].split(64):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xs[idx]), y[idx]).backward()
        opt.step()
model.eval()
acc = (model(xs).argmax(1) == y).float().mean().item()
print(f"trained CNN: accuracy {acc:.3f} on all rows")
torch.jit.script(model).save(os.path.join(out_dir, "cnn.pt"))
staged = fixture.CnnStages()
staged.inner.load_state_dict(model.state_dict())
torch.jit.script(staged.eval()).save(os.path.join(out_dir, "cnn_stages.pt"))
