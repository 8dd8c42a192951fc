"""Hostile input: one test (or one parametrised case) per hole that was found and closed.

Each test feeds ShopLens what an attacker or a broken machine would (decompression bombs,
overlong fields, formula cells, markup in names, unreadable paths, pipes, killed saves) and
checks that the hole stays shut. When a new hole is found, add its case here before fixing it.
"""
