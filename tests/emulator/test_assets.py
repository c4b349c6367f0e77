from __future__ import annotations

import json

import httpx
import pytest

from cincopa_sync.emulator import Emulator

from .conftest import base_seed


def listing(client: httpx.Client, **params: object) -> dict:
    response = client.get("asset.list.json", params=params)
    assert response.status_code == 200
    return response.json()


def rids(body: dict) -> list[str]:
    return [item["rid"] for item in body["items"]]


# -- paging -----------------------------------------------------------------------------


def test_paging_under_a_cap_of_37(client_for) -> None:
    em = Emulator(base_seed(100), page_cap=37)
    client = client_for(em)
    seen: list[str] = []
    page = 1
    while True:
        body = listing(client, page=page, items_per_page=500)
        assert body["items_data"] == {
            "page": page,
            "items_per_page": 37,
            "items_count": 100,
            "pages_count": 3,
        }
        seen += rids(body)
        if page >= body["items_data"]["pages_count"]:
            break
        page += 1
    assert page == 3
    assert seen == [f"rid{i:04d}" for i in range(1, 101)]
    assert len(rids(listing(client, page=3, items_per_page=500))) == 26


def test_items_per_page_below_the_cap_is_honoured(client_for) -> None:
    client = client_for(Emulator(base_seed(100), page_cap=37))
    body = listing(client, page=2, items_per_page=10)
    assert rids(body) == [f"rid{i:04d}" for i in range(11, 21)]
    assert body["items_data"]["items_per_page"] == 10
    assert body["items_data"]["pages_count"] == 10


def test_default_page_size_is_50(client) -> None:
    body = listing(client)
    assert body["items_data"] == {
        "page": 1,
        "items_per_page": 50,
        "items_count": 100,
        "pages_count": 2,
    }
    assert len(body["items"]) == 50
    assert body["success"] is True
    assert isinstance(body["runtime"], int)


def test_out_of_range_page_gives_no_items(client) -> None:
    body = listing(client, page=99)
    assert body["success"] is True
    assert body["items"] == []
    assert body["items_data"]["items_count"] == 100


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5"])
def test_bad_page_is_a_failure(client, page: str) -> None:
    body = listing(client, page=page)
    assert body["success"] is False
    assert "page" in body["message"]
    assert "items" not in body


def test_bad_items_per_page_is_a_failure(client) -> None:
    body = listing(client, items_per_page="0")
    assert body["success"] is False
    assert "items_per_page" in body["message"]


def test_listing_order_is_numeric_id_not_text(client_for) -> None:
    em = Emulator({"assets": [{"id": "10", "rid": "ten"}, {"id": "9", "rid": "nine"}]})
    em.add_asset(id="100", rid="hundred")
    em.add_asset(id="2", rid="two")
    assert rids(listing(client_for(em))) == ["two", "nine", "ten", "hundred"]


def test_added_and_removed_assets_shift_the_pages(client_for) -> None:
    em = Emulator(base_seed(10), page_cap=5)
    client = client_for(em)
    first = rids(listing(client, page=1))
    assert first == [f"rid{i:04d}" for i in range(1, 6)]
    em.remove_asset("rid0001")
    new = em.add_asset(rid="fresh", caption="new one")
    assert new.id == "11"
    second = listing(client, page=2)
    # rid0006 moved onto page 1 when rid0001 went away: a naive pager misses it.
    assert rids(second) == ["rid0007", "rid0008", "rid0009", "rid0010", "fresh"]
    assert second["items_data"]["items_count"] == 10


# -- filters ----------------------------------------------------------------------------


def test_rid_filter_is_exact(client) -> None:
    assert rids(listing(client, rid="rid0042")) == ["rid0042"]
    assert listing(client, rid="rid004")["items"] == []
    assert listing(client, rid="nope")["items_data"]["items_count"] == 0


def test_reference_id_filter_is_exact_and_can_match_several(emulator, client) -> None:
    assert rids(listing(client, reference_id="SKU-7")) == ["rid0007"]
    assert listing(client, reference_id="SKU-")["items"] == []
    emulator.account.assets_by_rid["rid0009"].reference_id = "SKU-7"
    assert rids(listing(client, reference_id="SKU-7")) == ["rid0007", "rid0009"]
    assert listing(client, reference_id="SKU-9")["items"] == []


def test_rid_and_reference_id_together_must_both_match(client) -> None:
    assert rids(listing(client, rid="rid0007", reference_id="SKU-7")) == ["rid0007"]
    assert listing(client, rid="rid0007", reference_id="SKU-8")["items"] == []


def test_tag_filter(client) -> None:
    red = rids(listing(client, tag="red", items_per_page=100))
    assert red == [f"rid{i:04d}" for i in range(3, 101, 3)]
    both = rids(listing(client, tag="red,blue", items_per_page=100))
    expected = [f"rid{i:04d}" for i in range(1, 101) if i % 3 == 0 or i % 5 == 0]
    assert both == expected


def test_no_tag_and_any_tag(client) -> None:
    untagged = [i for i in range(1, 101) if i % 3 and i % 5]
    body = listing(client, tag="no-tag", items_per_page=100)
    assert rids(body) == [f"rid{i:04d}" for i in untagged]
    assert body["items_data"]["items_count"] == len(untagged)
    tagged = listing(client, tag="any-tag", items_per_page=100)
    assert tagged["items_data"]["items_count"] == 100 - len(untagged)


def test_type_filter_takes_a_comma_list(client) -> None:
    images = listing(client, type="image", items_per_page=100)
    assert rids(images) == [f"rid{i:04d}" for i in range(4, 101, 4)]
    assert listing(client, type="image,video")["items_data"]["items_count"] == 100
    assert listing(client, type="audio")["items"] == []


def test_search_is_a_case_insensitive_substring(client) -> None:
    assert rids(listing(client, search="CAPTION 42")) == ["rid0042"]
    assert rids(listing(client, search="file17.MP4")) == ["rid0017"]
    assert rids(listing(client, search="rid0099")) == ["rid0099"]
    assert listing(client, search="blue")["items_data"]["items_count"] == 20
    assert listing(client, search="zzz")["items"] == []


def test_filters_combine_and_page(client_for) -> None:
    client = client_for(Emulator(base_seed(100), page_cap=37))
    body = listing(client, tag="red", type="video", page=1, items_per_page=5)
    expected = [i for i in range(3, 101, 3) if i % 4]
    assert rids(body) == [f"rid{i:04d}" for i in expected[:5]]
    assert body["items_data"]["items_count"] == len(expected)
    assert body["items_data"]["pages_count"] == -(-len(expected) // 5)


def test_empty_filter_values_count_as_absent(client) -> None:
    assert listing(client, rid="", tag="", search="")["items_data"]["items_count"] == 100


def test_details_is_accepted(client) -> None:
    body = listing(client, rid="rid0001", details="versions,tags")
    assert body["success"] is True
    assert rids(body) == ["rid0001"]


# -- item shape and tags ---------------------------------------------------------------


def test_item_shape_and_tag_string(client) -> None:
    item = listing(client, rid="rid0015")["items"][0]
    assert item == {
        "id": "15",
        "rid": "rid0015",
        "type": "video",
        "modified": "2026-01-01T00:00:00Z",
        "uploaded": "2026-01-01T00:00:00Z",
        "filename": "file15.mp4",
        "caption": "Caption 15",
        "description": "",
        "long_description": "",
        "related_link_text": "",
        "related_link_url": "",
        "reference_id": "SKU-15",
        "tags": ",red,blue,",
    }
    assert listing(client, rid="rid0001")["items"][0]["tags"] == ""


def test_unmodelled_item_fields_pass_through(client_for) -> None:
    versions = {"jpg_1200x900": {"url": "https://cdn.example.com/a.jpg"}}
    em = Emulator({"assets": [{"id": "1", "rid": "a", "versions": versions}]})
    item = listing(client_for(em))["items"][0]
    assert item["versions"] == versions


def test_get_tags(client) -> None:
    body = client.get("asset.get_tags.json").json()
    assert body["success"] is True
    assert body["tag_cloud"] == {"red": 33, "blue": 20, "no-tag": 53, "any-tag": 47}


# -- set_meta ---------------------------------------------------------------------------


def set_meta(client: httpx.Client, **params: object) -> dict:
    response = client.post("asset.set_meta.json", params=params)
    assert response.status_code == 200
    return response.json()


def test_set_meta_changes_only_given_fields(emulator, client) -> None:
    body = set_meta(client, rid="rid0015", caption="New", description="Desc")
    assert body["success"] is True
    assert isinstance(body["runtime"], int)
    item = listing(client, rid="rid0015")["items"][0]
    assert item["caption"] == "New"
    assert item["description"] == "Desc"
    assert item["reference_id"] == "SKU-15"
    assert item["tags"] == ",red,blue,"
    assert item["filename"] == "file15.mp4"


def test_set_meta_empty_value_clears(client) -> None:
    assert set_meta(client, rid="rid0015", caption="", tags="")["success"] is True
    item = listing(client, rid="rid0015")["items"][0]
    assert item["caption"] == ""
    assert item["tags"] == ""
    assert listing(client, tag="no-tag")["items_data"]["items_count"] == 54


def test_set_meta_tags_replace_and_are_trimmed(client) -> None:
    set_meta(client, rid="rid0015", tags=" launch , cars,,launch, ")
    assert listing(client, rid="rid0015")["items"][0]["tags"] == ",launch,cars,"
    assert rids(listing(client, tag="cars")) == ["rid0015"]
    assert listing(client, tag="red")["items_data"]["items_count"] == 32


def test_set_meta_reference_id_updates_the_index(client) -> None:
    set_meta(client, rid="rid0015", reference_id="NEW-REF")
    assert rids(listing(client, reference_id="NEW-REF")) == ["rid0015"]
    assert listing(client, reference_id="SKU-15")["items"] == []


def test_set_meta_bumps_modified(client_for) -> None:
    em = Emulator(base_seed(3), clock=lambda: 1_800_000_000.0)
    client = client_for(em)
    set_meta(client, rid="rid0002", caption="x")
    assert listing(client, rid="rid0002")["items"][0]["modified"] == "2027-01-15T08:00:00Z"
    assert listing(client, rid="rid0001")["items"][0]["modified"] == "2026-01-01T00:00:00Z"


def test_set_meta_thumbnail_fields(client) -> None:
    set_meta(client, rid="rid0001", video_thumb_sec="15", thumb_attached_rid="rid0002")
    item = listing(client, rid="rid0001")["items"][0]
    assert item["video_thumb_sec"] == 15
    assert item["thumb_attached_rid"] == "rid0002"
    set_meta(client, rid="rid0001", video_thumb_sec="", thumb_attached_rid="")
    item = listing(client, rid="rid0001")["items"][0]
    assert "video_thumb_sec" not in item
    assert "thumb_attached_rid" not in item


def test_set_meta_bad_thumb_sec_changes_nothing(emulator, client) -> None:
    body = set_meta(client, rid="rid0001", caption="changed", video_thumb_sec="soon")
    assert body["success"] is False
    assert "video_thumb_sec" in body["message"]
    assert emulator.account.assets_by_rid["rid0001"].caption == "Caption 1"
    assert emulator.writes() == []


def test_set_meta_unknown_rid_is_http_200_failure(client) -> None:
    response = client.post("asset.set_meta.json", params={"rid": "ghost", "caption": "x"})
    assert response.status_code == 200
    assert response.json()["success"] is False
    assert "ghost" in response.json()["message"]


def test_set_meta_without_rid_fails(client) -> None:
    body = set_meta(client, caption="x")
    assert body["success"] is False
    assert "rid" in body["message"]


def test_set_meta_accepts_get_and_form_bodies(emulator, client) -> None:
    response = client.get("asset.set_meta.json", params={"rid": "rid0003", "caption": "via GET"})
    assert response.json()["success"] is True
    response = client.post("asset.set_meta.json", data={"rid": "rid0004", "caption": "via form"})
    assert response.json()["success"] is True
    assets = emulator.account.assets_by_rid
    assert (assets["rid0003"].caption, assets["rid0004"].caption) == ("via GET", "via form")


def test_direct_asset_changes(emulator) -> None:
    added = emulator.add_asset({"rid": "extra", "tags": ",a,b,"}, caption="hi")
    assert added.tags == ["a", "b"]
    assert emulator.account.assets_by_rid["extra"].caption == "hi"
    with pytest.raises(ValueError, match="duplicate asset rid"):
        emulator.add_asset(rid="extra")
    removed = emulator.remove_asset("rid0050")
    assert removed.rid == "rid0050"
    assert "rid0050" not in emulator.account.assets_by_rid
    assert emulator.account.assets_with_reference("SKU-50") == []
    with pytest.raises(AttributeError):
        emulator.account.assets_by_rid["rid0001"].rid = "other"


def test_a_listed_asset_shows_every_change_made_after_it_was_listed(client_for) -> None:
    """Each asset's item is encoded once and kept: a write, or a field assigned behind the
    API's back, must show in the next listing all the same."""
    em = Emulator(base_seed(3))
    client = client_for(em)
    first = listing(client, rid="rid0002")["items"][0]
    assert first["caption"] == "Caption 2"
    written = client.post(
        "asset.set_meta.json", params={"rid": "rid0002", "caption": "New", "tags": "x,y"}
    )
    assert written.json()["success"] is True
    again = listing(client, rid="rid0002")["items"][0]
    assert (again["caption"], again["tags"]) == ("New", ",x,y,")
    em.account.assets_by_rid["rid0002"].reference_id = "SKU-NEW"
    assert listing(client, rid="rid0002")["items"][0]["reference_id"] == "SKU-NEW"
    assert listing(client, reference_id="SKU-NEW")["items"][0]["rid"] == "rid0002"
    body = listing(client)
    assert body == json.loads(json.dumps(body))  # one JSON document, items in it
    assert [item["caption"] for item in body["items"]] == ["Caption 1", "New", "Caption 3"]
