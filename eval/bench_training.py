"""Training and inference throughput of each network, per variant of the arithmetic.

For every network the toolkit trains (the U-Net of the shipped models, GRUU-Net,
the recurrent hourglass) at the crop and batch its shipped models were trained
with, this times:

- a training step (forward, backward, AdamW) on a fixed batch, in each variant:
  ``fp32`` (contiguous tensors: the toolkit before channels-last), ``channels-last``
  (what ``ctc train`` does now for the U-Net family), ``bf16`` (channels-last under
  CPU bfloat16 autocast) and, with ``--compile``, ``compile`` (channels-last and
  ``torch.compile``, its compile time reported apart); the recurrent hourglass
  trains contiguous, so it has fp32 and bf16 only;
- drawing one minibatch from the crop sampler (crops, augmentation, targets) on
  real DIC-C2DH-HeLa frames, the work a loader thread would take off the step;
- inference seconds per 512x512 frame (no test-time augmentation, and the 8-fold
  flips the shipped models use).

With ``--seg STEPS`` the U-Net is also trained STEPS steps on DIC-C2DH-HeLa 02 by
``ctc train``'s own loop in each of fp32, channels-last and bf16 from the same
seed, and scored on the held-out frames of that sequence (SEG, DET; a fixed
watershed at 0.85 for all): equal steps, so any loss of accuracy from the faster
arithmetic shows.

Usage::

    python eval/bench_training.py [--repeats 10] [--compile] [--seg 150] [--json out.json]
    python eval/bench_training.py --networks unet --variants fp32 channels-last compile --no-extras

Run it on an idle machine: two processes on 2 cores take ~8x as long each.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ctc.segmentation.data import Augment, CropSampler, load_samples  # noqa: E402
from ctc.segmentation.gruunet import GRUUConfig  # noqa: E402
from ctc.segmentation.infer import predict_frame  # noqa: E402
from ctc.segmentation.losses import make_loss  # noqa: E402
from ctc.segmentation.model import ModelConfig, build_net  # noqa: E402
from ctc.segmentation.nets import NetConfig, count_parameters  # noqa: E402
from ctc.segmentation.rshn import RSHNConfig  # noqa: E402

#: network -> (configuration, batch, crop) as its shipped models were trained
NETWORKS = {
    "unet": (ModelConfig(net=NetConfig(base=16)), 6, 256),
    "gruunet": (ModelConfig(arch="gruunet", net=GRUUConfig()), 6, 256),
    "rshn": (ModelConfig(arch="rshn", task="embedding", net=RSHNConfig()), 2, 128),
}
VARIANTS = ("fp32", "channels-last", "bf16")


def bf16_supported() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX)."""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def step_function(config: ModelConfig, batch: int, crop: int, variant: str):
    """A closure doing one training step of `config` on a fixed random batch."""
    torch.manual_seed(0)
    net = build_net(config).train()
    layout = torch.contiguous_format if variant == "fp32" or config.task == "embedding" \
        else torch.channels_last
    net = net.to(memory_format=layout)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    if config.task == "embedding":
        from ctc.segmentation.embedding import cosine_embedding_loss

        window = 3
        images = torch.rand(window, 1, 1, crop, crop)
        labels = torch.randint(0, 6, (window, crop, crop))
        full = torch.ones(window, dtype=torch.bool)

        def loss_of(model):
            model.reset()
            outs = [model(images[i]) for i in range(window)]
            return sum(cosine_embedding_loss(torch.cat([o[k] for o in outs]), labels, full)
                       for k in (0, 1))
    else:
        x = torch.rand(batch, 1, crop, crop).to(memory_format=layout)
        y = torch.randint(0, 3, (batch, crop, crop))
        loss_fn = make_loss(**config.loss)

        def loss_of(model):
            return loss_fn(model(x), y)
    model = net
    if variant == "compile":
        model = torch.compile(net)
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if variant == "bf16"
                else contextlib.nullcontext())

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = loss_of(model)
        loss.float().backward()
        optimizer.step()
        return float(loss.detach())
    return step, net


def time_calls(fn, repeats: int, warmup: int = 2) -> float:
    """Median seconds of `fn()` over `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def bench_steps(repeats: int, compile_too: bool, networks: list[str] | None = None,
                variants: list[str] | None = None) -> list[dict]:
    rows = []
    chosen = variants or (VARIANTS + (("compile",) if compile_too else ()))
    for name, (config, batch, crop) in NETWORKS.items():
        if networks and name not in networks:
            continue
        for variant in chosen:
            if variant == "bf16" and not bf16_supported():
                continue
            if variant in ("compile", "channels-last") and config.task == "embedding":
                continue  # training keeps the hourglass contiguous; its recurrent state in
                # Python would break a compiled graph at every frame
            step, net = step_function(config, batch, crop, variant)
            compile_seconds = None
            if variant == "compile":
                start = time.perf_counter()
                step()
                compile_seconds = time.perf_counter() - start
            seconds = time_calls(step, repeats)
            rows.append({"network": name, "variant": variant, "batch": batch, "crop": crop,
                         "params": count_parameters(net), "seconds_per_step": seconds,
                         "steps_per_second": 1 / seconds, "compile_seconds": compile_seconds})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def bench_sampler(data: Path, repeats: int) -> dict | None:
    dataset = data / "DIC-C2DH-HeLa"
    if not (dataset / "02").is_dir():
        return None
    samples = load_samples(dataset, "02", "GT+ST", frames=set(range(0, 84, 6)))
    sampler = CropSampler(samples, 256, np.random.default_rng(0), Augment())
    seconds = time_calls(lambda: sampler.batch(6), repeats)
    row = {"sampler": "DIC-C2DH-HeLa 02, GT+ST, 6 x 256 px", "seconds_per_batch": seconds}
    print(json.dumps(row), flush=True)
    return row


def bench_inference(repeats: int) -> list[dict]:
    rows = []
    image = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    for name, (config, _, _) in NETWORKS.items():
        if config.task == "embedding":
            continue  # clustered, not predicted per pixel: `ctc run` times it whole
        net = build_net(config).eval()
        for tta in ("none", "flips"):
            with torch.no_grad():
                seconds = time_calls(lambda net=net, tta=tta: predict_frame(
                    net, image, tile=512, overlap=64, tta=tta, device="cpu"),
                    max(2, repeats // 4), warmup=1)
            rows.append({"network": name, "tta": tta, "seconds_per_512_frame": seconds})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def bench_seg(data: Path, steps: int, out: Path) -> list[dict]:
    """Equal-step accuracy of the U-Net per variant (see the module docstring): ``ctc
    train``'s own loop, held-out frames scored with one fixed post-processing."""
    from ctc.segmentation.train import TrainConfig, train

    rows = []
    for variant in VARIANTS:
        if variant == "bf16" and not bf16_supported():
            continue
        config = ModelConfig(net=NetConfig(base=16))
        config.postprocess = {**config.postprocess, "method": "watershed",
                              "seed_threshold": 0.85, "tta": "none"}
        settings = TrainConfig(steps=steps, batch=6, crop=256, lr=2e-3, restart=400,
                               val_every=steps, val_frames=3, truth="GT+ST", device="cpu",
                               calibrate=False, bf16=variant == "bf16",
                               channels_last=variant != "fp32")
        start = time.perf_counter()
        done = train(config, [(data / "DIC-C2DH-HeLa", ["02"])], out / variant, settings,
                     progress=False, log=lambda *_: None)
        rows.append({"variant": variant, "steps": steps,
                     "seconds": time.perf_counter() - start, **done.scores["validation"]})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--seg", type=int, default=0, metavar="STEPS",
                        help="also train the U-Net STEPS steps per variant and score it")
    parser.add_argument("--networks", nargs="+", choices=sorted(NETWORKS),
                        help="time only these networks (default: all)")
    parser.add_argument("--variants", nargs="+", choices=(*VARIANTS, "compile"),
                        help="time only these variants (default: all, compile with --compile);"
                             " the speed-up column needs fp32 among them")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip the sampler and inference timings")
    parser.add_argument("--json", type=Path, help="write every row to this file")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"bf16 {'native' if bf16_supported() else 'not native (skipped)'}", flush=True)
    out = {"steps": bench_steps(args.repeats, args.compile, args.networks, args.variants)}
    if not args.no_extras:
        out["sampler"] = bench_sampler(args.data, args.repeats)
        out["inference"] = bench_inference(args.repeats)
    if args.seg:
        with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
            out["seg"] = bench_seg(args.data, args.seg, Path(tmp))
    print(f"\n{'network':8s} {'variant':14s} {'s/step':>8s} {'steps/s':>8s} {'vs fp32':>8s}")
    for r in out["steps"]:
        base = next((b for b in out["steps"] if b["network"] == r["network"]
                     and b["variant"] == "fp32"), None)
        gain = f"{base['seconds_per_step'] / r['seconds_per_step']:7.2f}x" if base else "      -"
        print(f"{r['network']:8s} {r['variant']:14s} {r['seconds_per_step']:8.3f} "
              f"{r['steps_per_second']:8.2f} {gain}"
              + (f"  (compiled in {r['compile_seconds']:.0f} s)" if r["compile_seconds"] else ""))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
