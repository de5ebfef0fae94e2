"""Sim 5 end to end on tiny replicas (both observation modes): training with snapshots → learning-set
curves on training and held-out objects → Fig. 6 → scorecard."""

import dataclasses

import numpy as np
import pytest

from neurometarl.agents import TrainConfig, load_checkpoint, train
from neurometarl.cli import main
from neurometarl.experiments import run_experiment
from neurometarl.experiments import sim5
from neurometarl.experiments.base import load_numbers
from neurometarl.experiments.sim5 import percent_correct_by_trial
from neurometarl.lab import load_recording


SCALE = 0.00125  # 640 training episodes: 5 updates


@pytest.fixture(scope="module")
def sim5_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim5")
    card = run_experiment("sim5", out, retrain=True, n_seeds=1, scale=SCALE, progress=False, sizes={"n_test": 12})
    return card, out


def test_scorecard_has_every_claim_measured(sim5_run):
    card, _ = sim5_run
    names = {c["claim"] for c in card["claims"]}
    for mode in ("abstract", "pixel"):
        assert {f"{mode}_trial1_chance", f"{mode}_trial2_one_shot", f"{mode}_learning_set_rises"} <= names
    for c in card["claims"]:
        assert "not computed" not in str(c["measured"]), c
    # a barely trained agent has not learned to learn: the claim machinery must say so
    one_shot = next(c for c in card["claims"] if c["claim"] == "abstract_trial2_one_shot")
    assert one_shot["measured"] < 90 and one_shot["pass"] is False


def test_learning_set_curves_from_snapshots(sim5_run):
    _, out = sim5_run
    numbers = load_numbers(out)  # numbers.nc
    assert numbers["percent_correct"].dims == ("variant", "progress", "pool", "replica", "trial")
    for mode in ("abstract", "pixel"):
        correct = numbers["percent_correct"].sel(variant=mode).dropna("progress", how="all")
        cfg = sim5.SIM5.train[mode]
        scaled = dataclasses.replace(cfg, train_episodes=max(cfg.batch_size, int(cfg.train_episodes * SCALE)))
        n_points = 1 + len(scaled.snapshot_iterations())  # untrained + every snapshot (the last: the final weights)
        progress = correct["progress"].values
        assert len(progress) == n_points and progress[0] == 0 and progress[-1] == 1
        assert correct.sizes["replica"] == 1 and correct.sizes["trial"] == 6
        assert ((0 <= correct) & (correct <= 100)).all()
        final = percent_correct_by_trial(load_recording(out / "recordings" / f"{mode}_held-out_final.nc"))
        np.testing.assert_allclose(correct.sel(pool="held-out", replica=0).isel(progress=-1), final)
    ideal = numbers["baseline_percent_correct"].sel(baseline="ideal one-shot learner").values
    assert ideal[1:].tolist() == [100.0] * 5
    assert (out / "fig6.png").stat().st_size > 50_000
    (out / "fig6.png").unlink()
    assert main(["figure", "sim5", "--results", str(out)]) == 0
    assert (out / "fig6.png").is_file()


def test_snapshots_are_evenly_spaced_and_loadable(tmp_path):
    cfg = TrainConfig(task="harlow", n_units=8, batch_size=16, train_episodes=160, snapshots=4, eval_episodes=0)
    assert cfg.snapshot_iterations() == {2, 5, 8, 10}
    train(cfg, tmp_path, progress=False)
    snaps = sorted((tmp_path / "snapshots").glob("iter*.pt"))
    assert [p.name for p in snaps] == ["iter000002.pt", "iter000005.pt", "iter000008.pt", "iter000010.pt"]
    final, last = load_checkpoint(tmp_path), load_checkpoint(snaps[-1])
    for key, value in final.agent.state_dict().items():
        assert (last.agent.state_dict()[key] == value).all()
    assert last.iteration == 10 and last.optimizer_state == {}


@pytest.mark.slow
def test_shipped_checkpoints_pass_every_claim(tmp_path):
    """Full Fig. 6 from the shipped checkpoints (both modes): every claim of the paper holds."""
    card = run_experiment("sim5", tmp_path, progress=False)
    assert card["all_pass"], [c for c in card["claims"] if not c["pass"]]


def test_pixel_encoders_code_each_slot_with_shared_weights():
    import torch

    from neurometarl.agents import build_agent
    from neurometarl.tasks.harlow import object_pool

    images = torch.tensor(object_pool("pixel", 1000, 8, 2018)[:6])
    screen = torch.cat([images[:3], images[3:]], 2).reshape(3, -1)
    swapped = torch.cat([images[3:], images[:3]], 2).reshape(3, -1)
    for encoder in ("conv", "conv-fixed", "conv-contrast"):
        agent = build_agent(TrainConfig(task="harlow-pixel", encoder=encoder, n_units=8))
        codes, codes_swapped = agent.encoder(screen), agent.encoder(swapped)
        half = codes.shape[1] // 2
        # the same object gets the same code in either slot
        torch.testing.assert_close(codes[:, :half], codes_swapped[:, half:])
        trainable = any(p.requires_grad for p in agent.encoder.parameters())
        assert trainable == (encoder == "conv")
        if encoder == "conv-contrast":
            torch.testing.assert_close(codes[:, :half] + codes[:, half:], torch.zeros(3, half), atol=1e-6, rtol=0)
    with pytest.raises(Exception, match="image observations"):
        build_agent(TrainConfig(task="harlow", encoder="conv"))
