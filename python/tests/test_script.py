"""prune_script: a TorchScript model trained here, gated, fitted and pruned in this process."""

import pytest
import torch

import stog


def xor_rows(n, seed):
    """Six standard normal inputs; the class is 1[x0 * x1 > 0] (x2 ... x5 are noise)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    return x, ((x[:, 0] * x[:, 1]) > 0).long()


def train(model, x, y, steps=200):
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


class Staged(torch.nn.Module):
    """An MLP in two stages: gates go between them (on the 32 hidden units)."""

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(6, 32)
        self.out = torch.nn.Linear(32, 2)

    @torch.jit.export
    def stage0(self, x):
        return torch.relu(self.hidden(x))

    @torch.jit.export
    def stage1(self, h):
        return self.out(h)

    def forward(self, x):
        return self.stage1(self.stage0(x))


@pytest.fixture(scope="module")
def rows():
    return xor_rows(1500, 0), xor_rows(2000, 1)


def test_input_gate_keeps_the_two_inputs_and_the_export_ignores_the_rest(rows):
    (x, y), (xt, yt) = rows
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    scripted = torch.jit.script(train(mlp, x, y))
    before = (scripted(xt).argmax(1) == yt).float().mean().item()
    r = stog.prune_script(scripted, x[:600], y[:600], lambdas=[0.0, 0.01, 0.03, 0.1], epochs=100)
    assert isinstance(r.module, torch.jit.ScriptModule)
    assert r.result["gates"][0]["selected"] == [0, 1]
    assert [p["lambda"] for p in r.path] == [0.0, 0.01, 0.03, 0.1]
    assert [p["kept"] for p in r.path][0] == 6
    assert r.lambda_ == 0.1
    after = (r.module(xt).argmax(1) == yt).float().mean().item()
    assert after > 0.9 and after > before - 0.03
    # The pruned model reads inputs 0 and 1 only: changing the others changes nothing.
    noisy = xt.clone()
    noisy[:, 2:] = torch.randn(noisy[:, 2:].shape)
    torch.testing.assert_close(r.module(noisy), r.module(xt))


def test_gates_between_stages_cut_hidden_units(rows, tmp_path):
    (x, y), (xt, yt) = rows
    torch.manual_seed(0)
    model = torch.jit.script(train(Staged(), x, y))
    r = stog.prune_script(
        model,
        x[:600].numpy(),
        y[:600].numpy(),
        placement="inside",
        gate="ste",
        lambda_=0.01,
        epochs=100,
        train_backbone=True,
        out_dir=tmp_path,
    )
    assert r.path is None and r.lambda_ == 0.01
    kept = r.result["gates"][0]["selected"]
    assert 0 < len(kept) < 32
    # The hidden layer physically lost the dropped units' rows, the output layer their columns.
    assert r.module.hidden.weight.shape == (len(kept), 6)
    assert r.module.out.weight.shape == (2, len(kept))
    assert (r.module(xt).argmax(1) == yt).float().mean().item() > 0.9
    assert (tmp_path / "pruned.pt").exists() and (tmp_path / "result.json").exists()


def test_bad_arguments(rows):
    (x, y), _ = rows
    model = torch.jit.script(torch.nn.Linear(6, 2))
    with pytest.raises(TypeError, match="ScriptModule"):
        stog.prune_script(torch.nn.Linear(6, 2), x, y)
    with pytest.raises(ValueError, match="placement"):
        stog.prune_script(model, x, y, placement="middle")
    with pytest.raises(ValueError, match="test rows"):
        stog.prune_script(model, x, y, split=(0.8, 0.2, 0.0))
    with pytest.raises(ValueError, match="train_backbone"):
        stog.prune_script(model, x, y, refit_epochs=5)
    with pytest.raises(ValueError, match="not a finite number"):
        bad = x.clone()
        bad[0, 0] = float("nan")
        stog.prune_script(model, bad, y)
    with pytest.raises(ValueError, match="lambdas"):
        stog.prune_script(model, x, y, lambda_=0.1, lambdas=[0.1, 0.2])
