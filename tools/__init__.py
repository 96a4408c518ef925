"""Development tools: run a real Home Assistant and drive it over its REST API."""
