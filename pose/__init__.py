"""Pose estimation on images: detection, decoding, drawing and output."""
