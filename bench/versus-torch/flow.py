# The torch side of bench/versus-torch/ (not part of the package): the flow of
# ../shared/bench/torch_maf.py, 5 x [MAF(H, H, relu) -> batch normalization
# (TFP semantics) -> reverse permute] in the density direction, float64, with
# switches for each difference from this package's TFP flow:
#   --masks torch|tfp    torch_maf.py's MADE degrees (hidden unit k has degree
#                        k %% (D-1) + 1, shift and log-scale as two halves) or
#                        TFP's masked_dense() blocks (the package's; hidden block
#                        1 sees no input, outputs interleaved shift_i, log_scale_i)
#                        or (equal) TFP AutoregressiveNetwork's degrees, spread
#                        evenly over 1..D-1, outputs interleaved (the package's
#                        default, hidden_degrees = "equal")
#   --init kaiming|glorot_normal|glorot_uniform
#                        nn.Linear's default (kernel and bias U(+-1/sqrt(fan_in)))
#                        or TFP's masked_dense() default (truncated-normal
#                        glorot, zero bias) or glorot uniform with zero bias
#   --clip zero|pass     gradient of the log-scale clip [-5, 3]: torch's clamp
#                        (0 outside) or TFP's clip_by_value_preserve_gradient
#   --adam-eps E         Adam's epsilon (torch 1e-8, Keras and the package 1e-7)
#   --record N           steps: write the gradients of the first N steps only
#   --gamma-constraint   after each step gamma = relu(gamma) + 1e-6, the
#                        constraint of TFP's (and the package's) default layer
#   --threads T          torch's threads (speed only; the others use 1)
#   --activation relu|tanh  the hidden layers' activation
#   --init-csv FILE      start from these weights (the layout of init.csv
#                        below; use --masks equal, the package's masks)
#   --orders-csv FILE    epochs: the minibatch order of each epoch, one line
#                        per epoch of space separated 1-based rows (cut into
#                        batches of --batch), instead of numpy's permutations
#   --losses FILE        epochs: write the loss of every step, one a line
#   --order-seed S       numpy's seed for the minibatch order (default
#                        --seed). torch's generator and numpy's RandomState
#                        are both MT19937 seeded the same way, so with one
#                        seed the initial weights and the order are drawn
#                        from the same stream of random words
#   --perturb E          multiply every initial weight by (1 + E * u), u
#                        uniform on (-1, 1) drawn by numpy with --seed + 1
#                        (a chaos baseline for trajectories)
# Three commands:
#   steps DIR N   write DIR/init.csv (initial weights in the package's layout:
#                 kernels fan_in x fan_out, masked), DIR/batches.csv (the row
#                 numbers of N minibatches, 1-based) and DIR/steps.csv (the loss
#                 and the gradient of every parameter at each of the N steps of
#                 Adam), reading the data from DIR/train.csv.
#   epochs DIR E1,E2,...  train on DIR/train.csv, and after each listed epoch
#                 print the test log-likelihood (DIR/test.csv), the batch
#                 statistics being recomputed on the whole training set first.
#   speed DIR N   the median time of a training step (log_prob, backward,
#                 Adam) and of a forward log_prob of one batch, over N of each
#                 after 20 warm-up steps, printed as "step_us logprob_us".
# Usage: /usr/bin/python3 flow.py steps|epochs|speed DIR ARG [--seed S] [--hidden H]
#        [--masks ...] [--init ...] [--clip ...] [--lr 1e-3] [--batch 256]
import argparse, csv, math, sys
import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("command", choices=["steps", "epochs", "speed"])
p.add_argument("dir")
p.add_argument("arg")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--hidden", type=int, default=64)
p.add_argument("--blocks", type=int, default=5)
p.add_argument("--masks", choices=["torch", "tfp", "equal"], default="torch")
p.add_argument("--init", choices=["kaiming", "glorot_normal", "glorot_uniform"],
               default="kaiming")
p.add_argument("--clip", choices=["zero", "pass"], default="zero")
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--adam-eps", type=float, default=1e-8)
p.add_argument("--batch", type=int, default=256)
p.add_argument("--gamma-constraint", action="store_true")
p.add_argument("--record", type=int, default=1000)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--activation", choices=["relu", "tanh"], default="relu")
p.add_argument("--init-csv", default=None)
p.add_argument("--orders-csv", default=None)
p.add_argument("--losses", default=None)
p.add_argument("--perturb", type=float, default=0.0)
p.add_argument("--order-seed", type=int, default=None)
a = p.parse_args()

torch.set_num_threads(a.threads)
act = torch.relu if a.activation == "relu" else torch.tanh
torch.manual_seed(a.seed)
rng = np.random.RandomState(a.seed if a.order_seed is None else a.order_seed)
dtype = torch.float64

def read(path):
    return torch.tensor(np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2),
                        dtype=dtype)

train = read(f"{a.dir}/train.csv")
N, D = train.shape
H, K = a.hidden, a.blocks

def torch_masks():
    # torch_maf.py's degrees
    din = torch.arange(1, D + 1); h = torch.arange(H) % (D - 1) + 1
    m1 = (h[:, None] >= din[None, :]).to(dtype)
    m2 = (h[:, None] >= h[None, :]).to(dtype)
    mo = (din[:, None] > h[None, :]).to(dtype)
    return m1, m2, torch.cat([mo, mo])

def tfp_mask(n_in, n_out, exclusive):
    # TFP's _gen_mask() in torch's (out, in) layout: input block k feeds
    # output rows from block k on (block k + 1 when exclusive)
    m = torch.zeros(n_out, n_in, dtype=dtype)
    d_in, d_out = n_in // D, n_out // D
    row, col = (d_out if exclusive else 0), 0
    for _ in range(D):
        if row < n_out and d_in > 0:
            m[row:, col:col + d_in] = 1
        col += d_in; row += d_out
    return m

def equal_masks():
    # TFP's AutoregressiveNetwork, hidden_degrees="equal", in (out, in) layout
    prev = torch.arange(1, D + 1); out = []
    for units in (H, H):
        low = min(int(prev.min()), D - 1)
        deg = torch.clamp(torch.ceil(torch.arange(1, units + 1) * (D - 1) / (units + 1)), min=low).long()
        out.append((prev[None, :] <= deg[:, None]).to(dtype)); prev = deg
    deg_out = torch.arange(1, D + 1).repeat_interleave(2)
    out.append((prev[None, :] < deg_out[:, None]).to(dtype))
    return out

def glorot_normal_(w):
    # a normal truncated at 2 sd (redrawn), scaled to sd sqrt(2/(fan_in+fan_out))
    fan_out, fan_in = w.shape
    z = torch.randn(w.shape, dtype=dtype)
    while True:
        out = z.abs() > 2
        if not out.any(): break
        z[out] = torch.randn(int(out.sum()), dtype=dtype)
    with torch.no_grad():
        w.copy_(z * math.sqrt(2 / (fan_in + fan_out)) / 0.87962566103423978)

class MADE(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.l1 = torch.nn.Linear(D, H); s.l2 = torch.nn.Linear(H, H); s.l3 = torch.nn.Linear(H, 2 * D)
        if a.masks == "torch":
            s.m1, s.m2, s.m3 = torch_masks()
        elif a.masks == "equal":
            s.m1, s.m2, s.m3 = equal_masks()
        else:
            s.m1, s.m2, s.m3 = tfp_mask(D, H, True), tfp_mask(H, H, False), tfp_mask(H, 2 * D, False)
        for l in (s.l1, s.l2, s.l3):
            if a.init == "glorot_normal":
                glorot_normal_(l.weight)
            elif a.init == "glorot_uniform":
                torch.nn.init.xavier_uniform_(l.weight)
            if a.init != "kaiming":
                torch.nn.init.zeros_(l.bias)
    def forward(s, x):
        h = act(torch.nn.functional.linear(x, s.l1.weight * s.m1, s.l1.bias))
        h = act(torch.nn.functional.linear(h, s.l2.weight * s.m2, s.l2.bias))
        o = torch.nn.functional.linear(h, s.l3.weight * s.m3, s.l3.bias)
        if a.masks == "torch":
            shift, ls = o[:, :D], o[:, D:]
        else:
            shift, ls = o[:, 0::2], o[:, 1::2]
        clipped = ls.clamp(-5, 3)
        if a.clip == "pass":
            clipped = ls + (clipped - ls).detach()
        return shift, clipped

class BN(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.g = torch.nn.Parameter(torch.ones(D, dtype=dtype)); s.b = torch.nn.Parameter(torch.zeros(D, dtype=dtype))
        s.fixed = None  # (mean, variance) in evaluation
    def forward(s, y, record=None):
        if s.fixed is None:
            m = y.mean(0); v = ((y - m) ** 2).mean(0)
        else:
            m, v = s.fixed
        if record is not None:
            record.append((m.detach(), v.detach()))
        return s.g * (y - m) / torch.sqrt(v + 1e-3) + s.b, (torch.log(s.g) - 0.5 * torch.log(v + 1e-3)).sum()

class Flow(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.made = torch.nn.ModuleList([MADE() for _ in range(K)])
        s.bn = torch.nn.ModuleList([BN() for _ in range(K)])
    def log_prob(s, y, record=None):
        ldj = torch.zeros(y.shape[0], dtype=dtype)
        for k in range(K):
            shift, ls = s.made[k](y); y = (y - shift) * torch.exp(-ls); ldj = ldj - ls.sum(1)
            y, l = s.bn[k](y, record); ldj = ldj + l; y = y.flip(1)
        return -0.5 * (y ** 2).sum(1) - 0.5 * D * math.log(2 * math.pi) + ldj
    def recompute_statistics(s, x):
        # each layer's statistics from the whole training set, layer by
        # layer, as the package's recompute_batch_statistics()
        for bn in s.bn: bn.fixed = None
        with torch.no_grad():
            for k in range(K):
                record = []
                s.log_prob(x, record)   # layers before k already fixed
                s.bn[k].fixed = record[k]
    def training_mode(s):
        for bn in s.bn: bn.fixed = None

# the module is built in float32 then converted, as torch_maf.py
flow = Flow().to(dtype)
opt = torch.optim.Adam(flow.parameters(), lr=a.lr, eps=a.adam_eps)

def step(rows):
    opt.zero_grad(); loss = -flow.log_prob(train[rows]).mean(); loss.backward()
    return loss

def update():
    opt.step()
    if a.gamma_constraint:
        with torch.no_grad():
            for bn in flow.bn: bn.g.copy_(torch.relu(bn.g) + 1e-6)

def named_package_parameters():
    # (package-style name, tensor) in the order of the package's chain of
    # [MAF, BN, permute] x K: kernels as fan_in x fan_out
    out = []
    for k in range(K):
        made = flow.made[k]
        for j, (l, m) in enumerate([(made.l1, made.m1), (made.l2, made.m2), (made.l3, made.m3)], 1):
            out.append((f"maf{k + 1}/layer{j}/kernel", l.weight, m))
            out.append((f"maf{k + 1}/layer{j}/bias", l.bias, None))
        out.append((f"bn{k + 1}/gamma", flow.bn[k].g, None))
        out.append((f"bn{k + 1}/beta", flow.bn[k].b, None))
    return out

def flat(t, m):
    # column-major fan_in x fan_out of a masked (out, in) weight = row-major (out, in)
    if m is not None:
        t = t * m
    return t.detach().reshape(-1).tolist()

def load_init(path):
    # the package-layout values of init.csv, by name, into the parameters
    values = {}
    with open(path) as f:
        r = csv.reader(f); next(r)
        for name, index, value, *_ in r:
            values.setdefault(name, []).append(float(value))
    with torch.no_grad():
        for name, t, m in named_package_parameters():
            v = torch.tensor(values[name], dtype=dtype)
            if v.numel() != t.numel():
                sys.exit(f"init-csv: {name} has {v.numel()} values, not {t.numel()}")
            t.copy_(v.reshape(t.shape))

if a.init_csv is not None:
    load_init(a.init_csv)
if a.perturb != 0.0:
    noise = np.random.RandomState(a.seed + 1)
    with torch.no_grad():
        for _, t, _ in named_package_parameters():
            u = torch.tensor(noise.uniform(-1, 1, tuple(t.shape)), dtype=dtype)
            t.mul_(1 + a.perturb * u)

orders = None
if a.orders_csv is not None:
    with open(a.orders_csv) as f:
        orders = [np.array([int(v) - 1 for v in line.split()]) for line in f if line.strip()]

def batches(epochs):
    for e in range(epochs):
        order = rng.permutation(N) if orders is None else orders[e]
        for i in range(0, N, a.batch):
            yield order[i:i + a.batch]

if a.command == "steps":
    n = int(a.arg)
    with open(f"{a.dir}/init.csv", "w") as f:
        w = csv.writer(f); w.writerow(["name", "index", "value", "mask"])
        for name, t, m in named_package_parameters():
            vals = flat(t, m); mask = m.reshape(-1).tolist() if m is not None else [1] * len(vals)
            for i, (v, mm) in enumerate(zip(vals, mask)):
                w.writerow([name, i + 1, repr(v), int(mm)])
    epochs = n // math.ceil(N / a.batch) + 1
    it = batches(epochs)
    with open(f"{a.dir}/batches.csv", "w") as fb, open(f"{a.dir}/steps.csv", "w") as fs:
        wb = csv.writer(fb); wb.writerow(["step", "row"])
        ws = csv.writer(fs); ws.writerow(["step", "name", "index", "value"])
        for k in range(1, n + 1):
            rows = next(it)
            for r in rows: wb.writerow([k, int(r) + 1])
            loss = step(rows)
            ws.writerow([k, "loss", 1, repr(loss.item())])
            for name, t, m in (named_package_parameters() if k <= a.record else []):
                g = t.grad if m is None else t.grad * m
                for i, v in enumerate(g.detach().reshape(-1).tolist()):
                    ws.writerow([k, name, i + 1, repr(v)])
            update()
    # the test log-likelihood after the N steps, batch statistics from the
    # whole training set
    flow.recompute_statistics(train)
    with torch.no_grad():
        print(repr(flow.log_prob(read(f"{a.dir}/test.csv")).mean().item()))
elif a.command == "epochs":
    test = read(f"{a.dir}/test.csv")
    report = sorted(int(e) for e in a.arg.split(","))
    steps_per_epoch = math.ceil(N / a.batch)
    it = batches(max(report)); out = []; losses = []
    for epoch in range(1, max(report) + 1):
        for _ in range(steps_per_epoch):
            rows = next(it)
            losses.append(step(rows).item()); update()
        if epoch in report:
            flow.recompute_statistics(train)
            with torch.no_grad():
                ll = flow.log_prob(test).mean().item()
            flow.training_mode()
            out.append(f"{epoch}:{ll:.5f}")
    if a.losses is not None:
        with open(a.losses, "w") as f:
            f.write("\n".join(repr(v) for v in losses) + "\n")
    print(" ".join(out))

if a.command == "speed":
    import time
    n = int(a.arg)
    it = batches(10 ** 6)
    for _ in range(20):
        step(next(it)); update()
    step_times, forward_times = [], []
    for _ in range(n):
        rows = next(it)
        t0 = time.perf_counter(); step(rows); update(); step_times.append(time.perf_counter() - t0)
        with torch.no_grad():
            t0 = time.perf_counter(); flow.log_prob(train[rows]); forward_times.append(time.perf_counter() - t0)
    print(f"{1e6 * float(np.median(step_times)):.1f} {1e6 * float(np.median(forward_times)):.1f}")
