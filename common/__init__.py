"""Conventions every layer shares: the error base class, safe file writing,
number clean-up and the command-line wrapper.

This package sits below :mod:`models`, :mod:`pose` and :mod:`fms` and
imports none of them; each helper here exists once for the whole project.
"""
