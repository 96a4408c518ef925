"""Tests for the OpenAI integration."""
