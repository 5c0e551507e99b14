"""Tiny, randomly initialised diffusers models for the pipelines' tests (no weights, no
network): each family saved with ``save_pretrained`` in the layout the real model store
holds, so a pipeline loads it through its real code. Runs in the pipelines' own environment
(torch, diffusers), never in the studio's::

    python tests/pipelines/tiny_models.py --out DIR sd15 flux wan ltx ltx-upsampler

Configs follow the sizes of diffusers' own "dummy components" tests; tokenizers are made
offline (CLIP from a written vocabulary and merges, T5 from a Unigram word list)."""

# mypy: ignore-errors
# ruff: noqa
from __future__ import annotations

import argparse
import json
import os
import tempfile

import torch
from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from tokenizers.processors import TemplateProcessing
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTokenizer,
    T5Config,
    T5EncoderModel,
    T5TokenizerFast,
    UMT5Config,
    UMT5EncoderModel,
)

WORDS = [
    "a",
    "the",
    "cat",
    "dog",
    "photo",
    "of",
    "red",
    "blue",
    "film",
    "scene",
    "man",
    "woman",
    "city",
    "night",
    "day",
    "car",
    "tree",
    "sky",
    "sun",
    "moon",
    "walking",
    "running",
    "blurry",
    "bad",
]


def clip_tokenizer(tmp):
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "!": 2}
    chars = "abcdefghijklmnopqrstuvwxyz0123456789.,"
    for c in chars:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    merges = ["#version: 0.2"]
    for w in WORDS:  # add merges building each word left to right
        cur = w[0]
        for i, c in enumerate(w[1:]):
            nxt = c + ("</w>" if i == len(w) - 2 else "")
            merges.append(f"{cur} {nxt}")
            cur = cur + nxt
            vocab.setdefault(cur, len(vocab))
    merges = list(dict.fromkeys(merges))
    vf, mf = os.path.join(tmp, "vocab.json"), os.path.join(tmp, "merges.txt")
    json.dump(vocab, open(vf, "w"))
    open(mf, "w").write("\n".join(merges) + "\n")
    tok = CLIPTokenizer(vf, mf, model_max_length=77, pad_token="<|endoftext|>")
    return tok, len(vocab)


def t5_tokenizer():
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    pieces += [("▁" + w, -1.0) for w in WORDS] + [
        (c, -5.0) for c in "abcdefghijklmnopqrstuvwxyz0123456789.,"
    ]
    tk = Tokenizer(models.Unigram(pieces, unk_id=2))
    tk.pre_tokenizer = pre_tokenizers.Metaspace()
    tk.decoder = decoders.Metaspace()
    tk.post_processor = TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    tok = T5TokenizerFast(
        tokenizer_object=tk,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        extra_ids=0,
        model_max_length=512,
    )
    return tok, len(pieces)


def t5_encoder(vocab, cls=T5EncoderModel, cfgcls=T5Config, d=32):
    torch.manual_seed(0)
    cfg = cfgcls(
        vocab_size=max(vocab, 64),
        d_model=d,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
    )
    return cls(cfg)


def clip_encoder(vocab, hidden=32, proj=32):
    torch.manual_seed(0)
    cfg = CLIPTextConfig(
        vocab_size=max(vocab, 100),
        hidden_size=hidden,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        projection_dim=proj,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    return CLIPTextModel(cfg)


def build_sd15():
    from diffusers import UNet2DConditionModel, StableDiffusionPipeline, PNDMScheduler

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=32,
        attention_head_dim=8,
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=32,
        sample_size=64,
    )
    with tempfile.TemporaryDirectory() as t:
        tok, v = clip_tokenizer(t)
        te = clip_encoder(v)
    sch = PNDMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        skip_prk_steps=True,
        steps_offset=1,
        set_alpha_to_one=False,
        num_train_timesteps=1000,
    )
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=te,
        tokenizer=tok,
        unet=unet,
        scheduler=sch,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_flux():
    from diffusers import FluxTransformer2DModel, FluxPipeline

    torch.manual_seed(0)
    tr = FluxTransformer2DModel(
        patch_size=1,
        in_channels=16,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=32,
        pooled_projection_dim=32,
        axes_dims_rope=[4, 4, 8],
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        block_out_channels=(16,),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=16,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5035,
        down_block_types=["DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D"],
    )
    with tempfile.TemporaryDirectory() as t:
        tok, v = clip_tokenizer(t)
        te = clip_encoder(v, proj=32)
    tok2, v2 = t5_tokenizer()
    te2 = t5_encoder(v2)
    sch = FlowMatchEulerDiscreteScheduler(
        shift=3.0,
        use_dynamic_shifting=True,
        base_shift=0.5,
        max_shift=1.15,
        base_image_seq_len=256,
        max_image_seq_len=4096,
    )
    return FluxPipeline(
        scheduler=sch,
        vae=vae,
        text_encoder=te,
        tokenizer=tok,
        text_encoder_2=te2,
        tokenizer_2=tok2,
        transformer=tr,
    )


def build_wan():
    from diffusers import (
        WanTransformer3DModel,
        AutoencoderKLWan,
        WanPipeline,
        UniPCMultistepScheduler,
    )

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    torch.manual_seed(0)
    tr = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    tok, v = t5_tokenizer()
    te = t5_encoder(v, UMT5EncoderModel, UMT5Config)
    sch = UniPCMultistepScheduler(
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        flow_shift=3.0,
        num_train_timesteps=1000,
    )
    return WanPipeline(tokenizer=tok, text_encoder=te, vae=vae, transformer=tr, scheduler=sch)


def build_ltx():
    from diffusers import LTXVideoTransformer3DModel, AutoencoderKLLTXVideo, LTXPipeline

    torch.manual_seed(0)
    tr = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    tok, v = t5_tokenizer()
    te = t5_encoder(v)
    # LTXConditionPipeline (the 13B recipe) passes no ``mu``: no dynamic shifting.
    sch = FlowMatchEulerDiscreteScheduler(
        shift=1.0,
        use_dynamic_shifting=False,
        base_shift=0.95,
        max_shift=2.05,
        base_image_seq_len=1024,
        max_image_seq_len=4096,
    )
    return LTXPipeline(scheduler=sch, vae=vae, text_encoder=te, tokenizer=tok, transformer=tr)


def build_ltx_upsampler(ltx_vae=None):
    from diffusers import LTXLatentUpsamplePipeline
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    torch.manual_seed(0)
    up = LTXLatentUpsamplerModel(
        in_channels=8,
        mid_channels=32,
        num_blocks_per_stage=1,
        dims=3,
        spatial_upsample=True,
        temporal_upsample=False,
    )
    vae = ltx_vae if ltx_vae is not None else build_ltx().vae
    return LTXLatentUpsamplePipeline(vae=vae, latent_upsampler=up)


FAMILIES = {
    "sd15": build_sd15,
    "flux": build_flux,
    "wan": build_wan,
    "ltx": build_ltx,
    "ltx-upsampler": build_ltx_upsampler,
}

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("families", nargs="+", choices=list(FAMILIES))
    args = parser.parse_args()
    for family in args.families:
        FAMILIES[family]().save_pretrained(os.path.join(args.out, family), safe_serialization=True)
        print("saved", family)
