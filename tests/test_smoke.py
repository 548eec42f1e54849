from tests.conftest import Api, bearer


async def test_customer_signs_in_and_reads_profile(api: Api) -> None:
    token = await api.customer("smoke@example.com")
    response = await api.client.get("/api/identity/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["email"] == "smoke@example.com"
