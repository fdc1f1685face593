"""Contact strategy engine: campaigns and contact rules (config), audiences, arbitration, plan outputs."""
