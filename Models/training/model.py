"""A small anchor-free detector for CPU inference (three strides, decoupled 1x1 heads).

Sized for Vigil's engine: plain 3x3 convolutions with batch norm (folded at load) and ReLU
(fused), stride-2 downsampling, no attention. Each output cell predicts distances to the box's
four sides (in strides) and one sigmoid probability per class. `forward(export=True)` decodes in
the graph to Vigil's "yolov8" layout: [1, 4 + classes, cells], centre/size boxes in input pixels.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDES = (8, 16, 32)


def conv(cin, cout, stride=1, k=3):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Detector(nn.Module):
    def __init__(self, channels, classes, widths=(12, 24, 48, 64, 96), head=32):
        super().__init__()
        w = widths
        self.classes = classes
        self.stem = nn.Sequential(conv(channels, w[0], 2), conv(w[0], w[1], 2))                 # /4
        self.c3 = nn.Sequential(conv(w[1], w[2], 2), conv(w[2], w[2]))                          # /8
        self.c4 = nn.Sequential(conv(w[2], w[3], 2), conv(w[3], w[3]))                          # /16
        self.c5 = nn.Sequential(conv(w[3], w[4], 2), conv(w[4], w[4]))                          # /32
        # Top-down context: coarse levels tell fine ones what surrounds them (a car, a wall).
        self.lat5 = conv(w[4], w[3], k=1)
        self.lat4 = conv(w[3], w[2], k=1)
        self.heads = nn.ModuleList(conv(c, head) for c in (w[2], w[3], w[4]))
        self.box = nn.ModuleList(nn.Conv2d(head, 4, 1) for _ in STRIDES)
        self.cls = nn.ModuleList(nn.Conv2d(head, classes, 1) for _ in STRIDES)
        for c in self.cls:
            nn.init.constant_(c.bias, -4.6)  # start at p = 0.01: most cells are background

    def features(self, x):
        p3 = self.c3(self.stem(x))
        p4 = self.c4(p3)
        p5 = self.c5(p4)
        p4 = p4 + F.interpolate(self.lat5(p5), size=p4.shape[-2:], mode="nearest")
        p3 = p3 + F.interpolate(self.lat4(p4), size=p3.shape[-2:], mode="nearest")
        return p3, p4, p5

    def forward(self, x, export=False):
        outs = []
        for i, f in enumerate(self.features(x)):
            h = self.heads[i](f)
            outs.append((self.box[i](h), self.cls[i](h)))
        if not export:
            return outs
        return decode(outs, x.shape[-2:])


def grid(h, w, stride, device=None):
    ys, xs = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    return ((xs.reshape(-1) + 0.5) * stride, (ys.reshape(-1) + 0.5) * stride)


def distances(raw, stride):
    # Softplus keeps distances positive with a gradient everywhere.
    return F.softplus(raw) * stride


def decode(outs, size):
    boxes, probs = [], []
    for (box, cls), s in zip(outs, STRIDES):
        n, _, h, w = box.shape
        cx, cy = grid(h, w, s, box.device)
        d = distances(box.reshape(n, 4, h * w), s)
        l, t, r, b = d[:, 0], d[:, 1], d[:, 2], d[:, 3]
        x0, y0, x1, y1 = cx - l, cy - t, cx + r, cy + b
        boxes.append(torch.stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], 1))
        probs.append(torch.sigmoid(cls.reshape(n, cls.shape[1], h * w)))
    return torch.cat([torch.cat(boxes, 2), torch.cat(probs, 2)], 1)
