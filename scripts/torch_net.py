"""PyTorch twin of a cream-ts child network, built from the JSON that `describeNetwork` prints.

Module and parameter names equal the TypeScript state-dict names, so weights move between the two
by name; only layouts differ (ours: NHWC activations, conv weights HWIO [k, k, in/g, out], depthwise
[k, k, C], linear and 1x1-on-vector weights [in, out]). Used by the benchmark reference scripts and
the fixture generators; never by the package at run time.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

ACT = {"swish": nn.SiLU, "relu": nn.ReLU, "relu6": nn.ReLU6, "hswish": nn.Hardswish, "none": nn.Identity}


def bn(c):
    return nn.BatchNorm2d(c, momentum=0.1, eps=1e-5)


class ConvBnAct(nn.Module):
    def __init__(self, cin, cout, k, stride, act):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn1 = bn(cout)
        self.act = ACT[act]()

    def forward(self, x):
        return self.act(self.bn1(self.conv(x)))


class SqueezeExcite(nn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.conv_reduce = nn.Conv2d(c, r, 1, bias=True)
        self.conv_expand = nn.Conv2d(r, c, 1, bias=True)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = self.conv_expand(F.relu(self.conv_reduce(s)))
        return x * F.hardsigmoid(s)


class DepthwiseSeparable(nn.Module):
    def __init__(self, cin, cout, k, stride, se, act):
        super().__init__()
        self.conv_dw = nn.Conv2d(cin, cin, k, stride, k // 2, groups=cin, bias=False)
        self.bn1 = bn(cin)
        self.act = ACT[act]()
        self.se = SqueezeExcite(cin, se) if se > 0 else None
        self.conv_pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.act(self.bn1(self.conv_dw(x)))
        if self.se is not None:
            y = self.se(y)
        y = self.bn2(self.conv_pw(y))
        return y + x if self.residual else y


class MBConv(nn.Module):
    def __init__(self, cin, cout, mid, k, stride, se, act):
        super().__init__()
        self.expand = mid != cin
        if self.expand:
            self.conv_pw = nn.Conv2d(cin, mid, 1, bias=False)
            self.bn1 = bn(mid)
        self.conv_dw = nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False)
        self.bn2 = bn(mid)
        self.act = ACT[act]()
        self.se = SqueezeExcite(mid, se) if se > 0 else None
        self.conv_pwl = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.act(self.bn1(self.conv_pw(x))) if self.expand else x
        y = self.act(self.bn2(self.conv_dw(y)))
        if self.se is not None:
            y = self.se(y)
        y = self.bn3(self.conv_pwl(y))
        return y + x if self.residual else y


class ResBlock(nn.Module):
    def __init__(self, cin, cout, mid, k, stride, act):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = bn(mid)
        self.conv2 = nn.Conv2d(mid, mid, k, stride, k // 2, bias=False)
        self.bn2 = bn(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = bn(cout)
        self.act = ACT[act]()
        self.project = stride != 1 or cin != cout
        if self.project:
            self.downsample_conv = nn.Conv2d(cin, cout, 1, stride, bias=False)
            self.downsample_bn = bn(cout)

    def forward(self, x):
        y = self.act(self.bn1(self.conv1(x)))
        y = self.act(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        s = self.downsample_bn(self.downsample_conv(x)) if self.project else x
        return self.act(y + s)


class Head(nn.Module):
    def __init__(self, d):
        super().__init__()
        c = d["cin"]
        self.conv_head = ConvBnAct(c, d["conv"], 1, 1, d["act"]) if d["conv"] else None
        c = d["conv"] or c
        self.conv_features = nn.Conv2d(c, d["features"], 1, bias=d["bias"]) if d["features"] else None
        self.act = ACT[d["act"]]()
        self.dropout = nn.Dropout(d["dropout"])
        self.classifier = nn.Linear(d["features"] or c, d["classes"])

    def forward(self, x):
        if self.conv_head is not None:
            x = self.conv_head(x)
        x = x.mean((2, 3), keepdim=True)
        if self.conv_features is not None:
            x = self.act(self.conv_features(x))
        return self.classifier(self.dropout(x.flatten(1)))


def build_block(b):
    t = b["type"]
    if t == "conv_bn_act":
        return ConvBnAct(b["cin"], b["cout"], b["k"], b["stride"], b["act"])
    if t == "ds":
        return DepthwiseSeparable(b["cin"], b["cout"], b["k"], b["stride"], b["se"], b["act"])
    if t == "mbconv":
        return MBConv(b["cin"], b["cout"], b["mid"], b["k"], b["stride"], b["se"], b["act"])
    if t == "resblock":
        return ResBlock(b["cin"], b["cout"], b["mid"], b["k"], b["stride"], b["act"])
    if t == "head":
        return Head(b)
    raise ValueError(f"unknown block type {t}")


class Net(nn.Module):
    """Blocks in order; `blocks.P.L` names become nested ModuleDicts so state-dict keys match ours."""

    def __init__(self, description):
        super().__init__()
        self.order = []
        self.blocks = nn.ModuleDict()
        for b in description["blocks"]:
            m = build_block(b)
            parts = b["name"].split(".")
            if parts[0] != "blocks":
                setattr(self, parts[0], m)
                self.order.append((parts[0],))
                continue
            d = self.blocks
            for p in parts[1:-1]:
                if p not in d:
                    d[p] = nn.ModuleDict()
                d = d[p]
            d[parts[-1]] = m
            self.order.append(tuple(parts))

    def module_at(self, path):
        if len(path) == 1:
            return getattr(self, path[0])
        m = self.blocks
        for p in path[1:]:
            m = m[p]
        return m

    def forward(self, x):
        for path in self.order:
            x = self.module_at(path)(x)
        return x


# ---- weight layout conversion ------------------------------------------------------------------

def _layers(model):
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            yield name, m


def to_ours(model):
    """state dict in cream-ts names and layouts, as float32 numpy arrays."""
    out = {}
    convs = dict(_layers(model))
    for key, t in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        a = t.detach().float().clone()  # a copy: numpy() would share memory with live BN statistics
        mod = convs.get(key.rsplit(".", 1)[0])
        if key.endswith(".weight") and isinstance(mod, nn.Conv2d):
            if mod.groups > 1 and mod.groups == mod.in_channels:
                a = a[:, 0].permute(1, 2, 0)  # [C,1,k,k] -> [k,k,C]
            elif _on_vector(key):
                a = a[:, :, 0, 0].t()  # 1x1 conv on pooled vectors -> [in, out]
            else:
                a = a.permute(2, 3, 1, 0)  # OIHW -> HWIO
        elif key.endswith(".weight") and isinstance(mod, nn.Linear):
            a = a.t()
        out[key] = a.contiguous().numpy()
    return out


def _on_vector(key):
    """SE convs and the head's feature conv act on pooled [N, C] vectors: ours are linear layers."""
    return ".se." in key or "conv_features" in key


def load_ours(model, tensors):
    """Loads cream-ts tensors (name -> numpy array in our layout) into the PyTorch model."""
    convs = dict(_layers(model))
    sd = model.state_dict()
    new = {}
    for key, t in sd.items():
        if key.endswith("num_batches_tracked"):
            new[key] = t
            continue
        a = torch.as_tensor(tensors[key]).float()
        mod = convs.get(key.rsplit(".", 1)[0])
        if key.endswith(".weight") and isinstance(mod, nn.Conv2d):
            if mod.groups > 1 and mod.groups == mod.in_channels:
                a = a.permute(2, 0, 1).unsqueeze(1)
            elif _on_vector(key):
                a = a.t()[:, :, None, None]
            else:
                a = a.permute(3, 2, 0, 1)
        elif key.endswith(".weight") and isinstance(mod, nn.Linear):
            a = a.t()
        if tuple(a.shape) != tuple(t.shape):
            raise ValueError(f"{key}: shape {tuple(a.shape)} does not fit {tuple(t.shape)}")
        new[key] = a.contiguous()
    model.load_state_dict(new)
