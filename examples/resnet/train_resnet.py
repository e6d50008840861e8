"""Trains torchvision's ResNet-18 (10 classes) on the 8x8 digits of data/digits.csv, upsampled to
32x32 inside the model, and saves it as TorchScript with the gate protocol of stog. GATES says
which gates it exports:
- inner (default): one gate per basic block, between its two convs (the channels a block can
  lose alone);
- stream: one gate per stage on the residual stream (64, 128, 256 and 512 channels), which the
  model multiplies into every write of that stream (the stem's output, each block's last
  BatchNorm and downsample, before the sums), so that a closed channel is zero all along it;
- both: the 4 stream gates, then the 8 inner ones.
Writes OUT_DIR/resnet.pt, OUT_DIR/split.csv (60/20/20 stratified, `seed,row,split`) and
OUT_DIR/trained.json (accuracy per part).
Usage: python train_resnet.py OUT_DIR [SEED] [EPOCHS] [GATES]
"""
import csv
import json
import os
import sys
from typing import List, Optional

import torch
import torchvision

F = torch.nn.functional


class GatedBasicBlock(torch.nn.Module):
    """torchvision's BasicBlock, with a gated forward for stog."""

    def __init__(self, block: torchvision.models.resnet.BasicBlock):
        super().__init__()
        self.conv1, self.bn1 = block.conv1, block.bn1
        self.conv2, self.bn2 = block.conv2, block.bn2
        self.downsample: Optional[torch.nn.Module] = block.downsample

    def shortcut(self, x):
        if self.downsample is not None:
            return self.downsample(x)
        return x

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))

    @torch.jit.export
    def forward_gated(self, x, g: torch.Tensor):
        h = F.relu(self.bn1(self.conv1(x))) * g.view(1, -1, 1, 1)
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))

    def write(self, h, x, s):
        """The block's sum, each of its writes into the residual stream (its last BatchNorm and
        its downsample) times `s`; its input, gated by the same gate before, passes as it is."""
        shortcut = x if self.downsample is None else self.downsample(x) * s
        return F.relu(self.bn2(self.conv2(h)) * s + shortcut)

    @torch.jit.export
    def forward_stream(self, x, stream: torch.Tensor):
        return self.write(F.relu(self.bn1(self.conv1(x))), x, stream.view(1, -1, 1, 1))

    @torch.jit.export
    def forward_both(self, x, inner: torch.Tensor, stream: torch.Tensor):
        h = F.relu(self.bn1(self.conv1(x))) * inner.view(1, -1, 1, 1)
        return self.write(h, x, stream.view(1, -1, 1, 1))


class DigitsResNet(torch.nn.Module):
    """ResNet-18 on [N, 1, 8, 8] digits: upsampled to 32x32 and repeated on 3 channels."""

    def __init__(self):
        super().__init__()
        net = torchvision.models.resnet18(num_classes=10)
        self.stem = torch.nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        layers = [net.layer1, net.layer2, net.layer3, net.layer4]
        self.blocks = torch.nn.ModuleList([GatedBasicBlock(b) for layer in layers for b in layer])
        self.fc = net.fc

    def begin(self, x):
        x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
        return self.stem(x.expand(-1, 3, -1, -1))

    def end(self, h):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))

    def forward(self, x):
        h = self.begin(x)
        for block in self.blocks:
            h = block(h)
        return self.end(h)

    @torch.jit.export
    def gate_dims(self) -> List[int]:
        return [64, 64, 128, 128, 256, 256, 512, 512]

    @torch.jit.export
    def forward_gates(self, x, gates: List[torch.Tensor]):
        h = self.begin(x)
        for i, block in enumerate(self.blocks):
            h = block.forward_gated(h, gates[i])
        return self.end(h)


class StreamGatedResNet(DigitsResNet):
    """One gate per stage on the residual stream: blocks 2k and 2k + 1 write stage k's stream."""

    @torch.jit.export
    def gate_dims(self) -> List[int]:
        return [64, 128, 256, 512]

    @torch.jit.export
    def forward_gates(self, x, gates: List[torch.Tensor]):
        h = self.begin(x) * gates[0].view(1, -1, 1, 1)
        for i, block in enumerate(self.blocks):
            h = block.forward_stream(h, gates[i // 2])
        return self.end(h)


class BothGatedResNet(DigitsResNet):
    """The 4 stream gates of StreamGatedResNet, then one gate inside each of the 8 blocks."""

    @torch.jit.export
    def gate_dims(self) -> List[int]:
        return [64, 128, 256, 512, 64, 64, 128, 128, 256, 256, 512, 512]

    @torch.jit.export
    def forward_gates(self, x, gates: List[torch.Tensor]):
        h = self.begin(x) * gates[0].view(1, -1, 1, 1)
        for i, block in enumerate(self.blocks):
            h = block.forward_both(h, gates[4 + i], gates[i // 2])
        return self.end(h)


MODELS = {"inner": DigitsResNet, "stream": StreamGatedResNet, "both": BothGatedResNet}


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
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    gates = sys.argv[4] if len(sys.argv) > 4 else "inner"
    if gates not in MODELS:
        sys.exit(f"train_resnet.py: GATES must be one of {', '.join(MODELS)}, not {gates!r}")
    torch.set_num_threads(2)
    rows = list(csv.reader(open("data/digits.csv")))[1:]
    x = torch.tensor([[float(v) for v in r[:-1]] for r in rows])
    y = torch.tensor([int(r[-1]) for r in rows])
    parts = stratified_split(y, seed)
    with open(os.path.join(out_dir, "split.csv"), "w") as f:
        f.write("seed,row,split\n")
        for name, idx in parts.items():
            f.writelines(f"{seed},{i},{name}\n" for i in idx.tolist())
    # Standardised as stog does: per column over the training rows (population std, 1 if 0).
    train = parts["train"]
    mean, std = x[train].mean(0), x[train].std(0, unbiased=False)
    std[std == 0] = 1.0
    xs = ((x - mean) / std).view(-1, 1, 8, 8)
    torch.manual_seed(seed)
    model = MODELS[gates]()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        for idx in train[torch.randperm(len(train))].split(64):
            opt.zero_grad()
            F.cross_entropy(model(xs[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = {k: (model(xs[v]).argmax(1) == y[v]).float().mean().item() for k, v in parts.items()}
    print("trained ResNet-18: accuracy " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()))
    with open(os.path.join(out_dir, "trained.json"), "w") as f:
        json.dump(acc, f)
    torch.jit.script(model).save(os.path.join(out_dir, "resnet.pt"))
