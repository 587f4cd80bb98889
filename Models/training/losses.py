"""The two detection losses, written out (torchvision is not a dependency)."""
import torch
import torch.nn.functional as F


def sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="sum"):
    """Lin et al. 2017: cross-entropy down-weighted on easy cells, so the few objects count."""
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    pt = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - pt) ** gamma
    loss = loss * (alpha * targets + (1 - alpha) * (1 - targets))
    return loss.sum() if reduction == "sum" else loss.mean()


def generalized_box_iou_loss(a, b, reduction="sum", eps=1e-7):
    """1 - GIoU (Rezatofighi et al. 2019) for boxes as x0, y0, x1, y1."""
    ix0, iy0 = torch.max(a[:, 0], b[:, 0]), torch.max(a[:, 1], b[:, 1])
    ix1, iy1 = torch.min(a[:, 2], b[:, 2]), torch.min(a[:, 3], b[:, 3])
    inter = (ix1 - ix0).clamp(min=0) * (iy1 - iy0).clamp(min=0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a + area_b - inter + eps
    iou = inter / union
    cx0, cy0 = torch.min(a[:, 0], b[:, 0]), torch.min(a[:, 1], b[:, 1])
    cx1, cy1 = torch.max(a[:, 2], b[:, 2]), torch.max(a[:, 3], b[:, 3])
    hull = (cx1 - cx0) * (cy1 - cy0) + eps
    loss = 1 - (iou - (hull - union) / hull)
    return loss.sum() if reduction == "sum" else loss.mean()
