"""Pieces the pages draw with: the digit colours and the icon, user text as markdown, pictures
(PNG, data URIs, GIFs), digits and neighbours, the drawing and upload input, a denoising model's
noise, the worst reconstructions, and interpolation endpoints. May import space.
"""
