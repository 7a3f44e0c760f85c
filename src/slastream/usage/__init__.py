"""Request allowance: ADI bands, requests per ADI per minute, intensive communication."""
