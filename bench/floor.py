"""Django's floor: a bare view rendering a one-line template through the same middleware stack."""

from django.shortcuts import render


def floor(request):
    return render(request, "bench/floor.html")
