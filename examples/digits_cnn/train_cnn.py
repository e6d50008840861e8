"""Trains a CNN on data/digits.csv in PyTorch and saves it as TorchScript twice: with the gate
protocol (cnn.pt: `gate_dims`, `forward_gates`, `macs`) and with stage methods only
(cnn_stages.pt: `stage0 ... stage3`, `macs`). Also writes the split it used (split.csv, the
`seed,row,split` file that `stog --splits` reads), so that stog scores on rows the CNN never saw,
and the CNN's accuracy on each part (trained.json).

The CNN: conv 1->16, ReLU, conv 16->32, ReLU, max-pool 2, conv 32->64, ReLU, mean pool, linear
64->10 on 8x8 images; 112 conv channels, 599,680 multiply-adds per image. Pixels are standardised
per pixel on the training rows, as stog does.
Usage: python train_cnn.py OUT_DIR [SEED]
"""
import csv
import json
import os
import sys
from typing import List

import torch

F = torch.nn.functional


class DigitsCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = torch.nn.Conv2d(32, 64, 3, padding=1)
        self.head = torch.nn.Linear(64, 10)

    @torch.jit.export
    def stage0(self, x):
        return torch.relu(self.conv1(x))

    @torch.jit.export
    def stage1(self, x):
        return F.max_pool2d(torch.relu(self.conv2(x)), 2)

    @torch.jit.export
    def stage2(self, x):
        return torch.relu(self.conv3(x))

    @torch.jit.export
    def stage3(self, x):
        return self.head(x.mean(dim=(2, 3)))

    @torch.jit.export
    def gate_dims(self) -> List[int]:
        return [16, 32, 64]

    @torch.jit.export
    def forward_gates(self, x, gates: List[torch.Tensor]):
        h = self.stage0(x) * gates[0].view(1, -1, 1, 1)
        h = self.stage1(h) * gates[1].view(1, -1, 1, 1)
        h = self.stage2(h) * gates[2].view(1, -1, 1, 1)
        return self.stage3(h)

    @torch.jit.export
    def macs(self, units: List[int]) -> int:
        """Multiply-adds per image when the gates keep `units` channels: 3x3 convs on 8x8, 8x8
        and 4x4 positions, then the linear head."""
        c1, c2, c3 = units[0], units[1], units[2]
        return 64 * 9 * c1 + 64 * 9 * c1 * c2 + 16 * 9 * c2 * c3 + c3 * 10

    def forward(self, x):
        return self.stage3(self.stage2(self.stage1(self.stage0(x))))


class DigitsCnnStages(torch.nn.Module):
    """The same network with stage methods (and `macs`) and no gate protocol."""

    def __init__(self, inner: DigitsCnn):
        super().__init__()
        self.inner = inner

    @torch.jit.export
    def stage0(self, x):
        return self.inner.stage0(x)

    @torch.jit.export
    def stage1(self, x):
        return self.inner.stage1(x)

    @torch.jit.export
    def stage2(self, x):
        return self.inner.stage2(x)

    @torch.jit.export
    def stage3(self, x):
        return self.inner.stage3(x)

    @torch.jit.export
    def macs(self, units: List[int]) -> int:
        return self.inner.macs(units)

    def forward(self, x):
        return self.inner(x)


def stratified_split(y, seed):
    """60/20/20 within each class, shuffled with `seed`."""
    g = torch.Generator().manual_seed(seed)
    parts = {"train": [], "val": [], "test": []}
    for c in y.unique().tolist():
        rows = (y == c).nonzero().flatten()
        rows = rows[torch.randperm(len(rows), generator=g)].tolist()
        n_test = n_val = round(0.2 * len(rows))
        parts["test"] += rows[:n_test]
        parts["val"] += rows[n_test : n_test + n_val]
        parts["train"] += rows[n_test + n_val :]
    return {k: torch.tensor(sorted(v)) for k, v in parts.items()}


if __name__ == "__main__":
    out_dir = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    torch.set_num_threads(2)
    rows = list(csv.reader(open("data/digits.csv")))[1:]
    x = torch.tensor([[float(v) for v in r[:-1]] for r in rows])
    y = torch.tensor([int(r[-1]) for r in rows])
    parts = stratified_split(y, seed)
    with open(os.path.join(out_dir, "split.csv"), "w") as f:
        f.write("seed,row,split\n")
        for name, idx in parts.items():
            f.writelines(f"{seed},{i},{name}\n" for i in idx.tolist())
    train = parts["train"]
    mean, std = x[train].mean(0), x[train].std(0, unbiased=False)
    std[std == 0] = 1.0
    xs = ((x - mean) / std).view(-1, 1, 8, 8)
    torch.manual_seed(seed)
    model = DigitsCnn()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    epochs = 60
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for epoch in range(epochs):
        for idx in train[torch.randperm(len(train))].split(64):
            opt.zero_grad()
            F.cross_entropy(model(xs[idx]), y[idx]).backward()
            opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        acc = {k: (model(xs[v]).argmax(1) == y[v]).float().mean().item() for k, v in parts.items()}
    print("trained CNN: accuracy " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()))
    with open(os.path.join(out_dir, "trained.json"), "w") as f:
        json.dump(acc, f)
    torch.jit.script(model).save(os.path.join(out_dir, "cnn.pt"))
    torch.jit.script(DigitsCnnStages(model)).save(os.path.join(out_dir, "cnn_stages.pt"))
