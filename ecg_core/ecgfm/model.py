"""The ECG-FM network (fairseq-signals' ECG transformer) as small plain-PyTorch modules.

Shapes: input (B, 12, 2500) standardised leads at 500 Hz → conv features (B, T, C) → transformer (B, T, D).
The architecture is post-LN (`layer_norm_first=False`): a LayerNorm before the first layer, one after each
residual sum, none at the end. All sizes come from `ECGFMConfig`, read from the checkpoint.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ECGFMConfig:
    """Architecture hyper-parameters (fairseq-signals `cfg.model` names in comments)."""

    conv_layers: tuple[tuple[int, int, int], ...]  # conv_feature_layers: (channels, kernel, stride) per layer
    in_channels: int = 12  # in_d
    embed_dim: int = 768  # encoder_embed_dim
    ffn_dim: int = 3072  # encoder_ffn_embed_dim
    num_heads: int = 12  # encoder_attention_heads
    num_layers: int = 12  # encoder_layers
    conv_pos: int = 128  # positional conv kernel width
    conv_pos_groups: int = 16
    conv_bias: bool = False
    labels: tuple[str, ...] = ()  # classifier output names; empty for an encoder-only model

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ECGFMConfig":
        values = dict(values)
        values["conv_layers"] = tuple(tuple(int(v) for v in layer) for layer in values["conv_layers"])
        values["labels"] = tuple(values.get("labels", ()))
        return cls(**values)


def released_config(labels: tuple[str, ...] = ()) -> ECGFMConfig:
    """The architecture of the released wanglab/ecg-fm checkpoints (90.4 M parameters with 17 labels)."""
    return ECGFMConfig(conv_layers=((256, 2, 2),) * 4, labels=labels)


class ConvBlock(nn.Module):
    """Conv1d → (GroupNorm with one group per channel, computed in fp32, first block only) → GELU."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, bias: bool, norm: bool):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, stride=stride, bias=bias)
        self.norm = nn.GroupNorm(out_channels, out_channels) if norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.norm is not None:
            # fairseq's Fp32GroupNorm: statistics in fp32 even when the model runs in half precision.
            weight, bias = self.norm.weight.float(), self.norm.bias.float()
            x = F.group_norm(x.float(), self.norm.num_groups, weight, bias, self.norm.eps).type_as(x)
        return F.gelu(x)


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate q/k/v projections, via `F.scaled_dot_product_attention`."""

    def __init__(self, embed_dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, time, width = x.shape

        def heads(projected: torch.Tensor) -> torch.Tensor:  # (B, T, D) → (B, H, T, D/H)
            return projected.view(batch, time, self.num_heads, width // self.num_heads).transpose(1, 2)

        attended = F.scaled_dot_product_attention(heads(self.q_proj(x)), heads(self.k_proj(x)), heads(self.v_proj(x)))
        return self.out_proj(attended.transpose(1, 2).reshape(batch, time, width))


class EncoderLayer(nn.Module):
    """Post-LN transformer layer: ``x = LN1(x + MHA(x)); x = LN2(x + fc2(gelu(fc1(x))))``."""

    def __init__(self, embed_dim: int, ffn_dim: int, num_heads: int):
        super().__init__()
        self.self_attn = SelfAttention(embed_dim, num_heads)
        self.self_attn_layer_norm = nn.LayerNorm(embed_dim)
        self.fc1 = nn.Linear(embed_dim, ffn_dim)
        self.fc2 = nn.Linear(ffn_dim, embed_dim)
        self.final_layer_norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.self_attn_layer_norm(x + self.self_attn(x))
        return self.final_layer_norm(x + self.fc2(F.gelu(self.fc1(x))))


class ECGFM(nn.Module):
    """ECG-FM encoder with an optional multi-label classifier head (`proj`)."""

    def __init__(self, config: ECGFMConfig):
        super().__init__()
        self.config = config
        self.labels = list(config.labels)
        blocks, channels = [], config.in_channels
        for index, (out_channels, kernel, stride) in enumerate(config.conv_layers):
            blocks.append(ConvBlock(channels, out_channels, kernel, stride, config.conv_bias, norm=index == 0))
            channels = out_channels
        self.feature_extractor = nn.ModuleList(blocks)
        self.feature_norm = nn.LayerNorm(channels)
        # fairseq-signals only projects when the conv width differs from the transformer width.
        self.feature_projection = (nn.Linear(channels, config.embed_dim) if channels != config.embed_dim
                                   else nn.Identity())
        self.pos_conv = nn.Conv1d(config.embed_dim, config.embed_dim, config.conv_pos,
                                  padding=config.conv_pos // 2, groups=config.conv_pos_groups)
        self.encoder_norm = nn.LayerNorm(config.embed_dim)
        self.layers = nn.ModuleList(EncoderLayer(config.embed_dim, config.ffn_dim, config.num_heads)
                                    for _ in range(config.num_layers))
        self.proj = nn.Linear(config.embed_dim, len(config.labels)) if config.labels else None

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor | None]:
        """x: (B, in_channels, samples) → logits (B, L) or None, embeddings (B, D), encoder_out (B, T, D)."""
        for block in self.feature_extractor:
            x = block(x)
        x = self.feature_projection(self.feature_norm(x.transpose(1, 2)))
        positional = self.pos_conv(x.transpose(1, 2))
        if self.config.conv_pos % 2 == 0:
            positional = positional[:, :, :-1]  # an even kernel with padding k//2 yields one extra step
        x = self.encoder_norm(x + F.gelu(positional).transpose(1, 2))
        for layer in self.layers:
            x = layer(x)
        embeddings = x.mean(dim=1)
        logits = self.proj(embeddings) if self.proj is not None else None
        return {"logits": logits, "embeddings": embeddings, "encoder_out": x}
