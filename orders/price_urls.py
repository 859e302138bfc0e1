app_name = "price"
urlpatterns: list = []
