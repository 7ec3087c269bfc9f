"""Pieces the pages draw with: the digit colours and the icon, user text as markdown, pictures
(PNG, data URIs, GIFs) and the one way to show them (with alt text), the plane's controls in
words, digits and neighbours, a denoising model's noise, the worst reconstructions, and
interpolation endpoints. May import space.
"""
