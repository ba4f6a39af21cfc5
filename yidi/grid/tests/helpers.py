"""Builders for the grid tests."""

from django.core.files.uploadedfile import SimpleUploadedFile

FENGYUAN = "330681109290"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def photo(name: str = "现场.jpg", data: bytes = JPEG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "image/jpeg")


def disguised_photo() -> SimpleUploadedFile:
    """A script named and typed as a photo."""
    return SimpleUploadedFile("现场2.jpg", b"#!/bin/sh\nrm -rf /\n", "image/jpeg")


def report_form(**overrides) -> dict:
    data = {
        "region": FENGYUAN, "address": "枫源村3组祠堂东侧", "latitude": "29.612345", "longitude": "120.312345",
        "description": "巡查发现枫源村3组陈某与邻居王某因排水沟堵塞争吵，积水倒灌陈家厨房。",
        "title": "", "people_involved": "2", "request_type": "mediation",
        "applicant_name": "陈建国", "applicant_phone": "13805751234", "respondent_name": "王志强",
        "result": "reported", "outcome": "", "agreement": "", "attempt_summary": "",
    }
    data.update(overrides)
    return data
