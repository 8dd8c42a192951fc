"""The front door: what ShopLens is, three ways to start, and a guided path for newcomers."""

from ui import home, state

state.run_inside_app()
home.intro()
home.starts()
home.guided_path()
