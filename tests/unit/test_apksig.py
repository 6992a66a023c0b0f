"""harness.apksig on real APKs built and signed by aapt/zipalign/apksigner (virtual_device/apk_fixtures.py):
v1 only, v2 only, v1+v2, v3, v3 key rotation with lineage, AOSP testkey, unsigned; read from byte ranges only."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.apksig import (
    AOSP_TEST_CERTIFICATES,
    EOCD_MAX_TAIL,
    SIG_BLOCK_MAGIC,
    NeedBytes,
    SparseApk,
    _lineage,
    read_apk_signature,
    read_local_apk,
)
from harness.errors import ParseError
from virtual_device.apk_fixtures import AOSP_DIR, _derived, cert_digest, ensure_built

PARTNER = cert_digest("partner")
PARTNER_2026 = cert_digest("partner-2026")
OTHER = cert_digest("other")
TESTKEY = "a40da80a59d170caa950cf15c18c454d47a39b26989d8b640ecd745ba71bf5dc"


@pytest.fixture(scope="module")
def apks() -> Path:
    return ensure_built()


def read(apks: Path, name: str):
    path = apks / f"{name}.apk"
    return read_local_apk(f"/system/app/X/{name}.apk", path.read_bytes())


def digests(signers) -> list[str]:
    return [s.cert.sha256 for s in signers]


def test_fixture_key_digests_are_stable_across_machines():
    """Seed contracts list these digests: the derived keys must not change (they are derived, not random)."""
    assert PARTNER == "f19b6c67a582b33c37f75d5aebb9f6ca2d9ba99e6a0d92251f90c2042e23fbbe"
    assert PARTNER_2026 == "9b4f70666261f13bf94ba85685350aa73fc882aea4696eb994a6e7bd02441db7"
    assert OTHER == "86c13887f12c98e38f22fb114ccb6e399abde76d122d41ce16f1d7b72cb56575"
    assert cert_digest("aosp-testkey") == TESTKEY


def test_aosp_test_certificate_digests_match_the_aosp_files():
    files = sorted(AOSP_DIR.glob("*.x509.pem"))
    assert len(files) == len(AOSP_TEST_CERTIFICATES) == 8
    for pem in files:
        der = x509.load_pem_x509_certificate(pem.read_bytes()).public_bytes(serialization.Encoding.DER)
        name = AOSP_TEST_CERTIFICATES[hashlib.sha256(der).hexdigest()]
        assert pem.name.split(".")[0] in name.lower().replace("aosp ", "").replace(" key", "")


def test_v1_only(apks):
    sig, rounds = read(apks, "partner-v1")
    assert sig.schemes == ("v1",) and sig.v1_files == ("META-INF/PARTNER.EC",)
    assert digests(sig.v1) == [PARTNER]
    for sdk in (19, 24, 30):
        assert sig.effective(sdk)[0] == "v1"
    cert = sig.v1[0].cert
    assert cert.subject == "O=preload-harness fixtures,CN=Partner app signer A (fixture test key)"
    assert (cert.not_before, cert.not_after, cert.key) == ("2016-01-01", "2046-01-01", "EC secp256r1")
    assert len(rounds) == 1 and sig.bytes_read == (apks / "partner-v1.apk").stat().st_size  # all in the tail


def test_v2_only(apks):
    sig, _ = read(apks, "partner-v2")
    assert sig.schemes == ("v2",) and not sig.v1_files
    assert digests(sig.v2) == [PARTNER]
    assert sig.effective(24) == ("v2", sig.v2)
    assert sig.effective(23)[0] == "v2"  # would not install there; the newest scheme present is reported


def test_v1_and_v2_android_uses_v2_from_api_24(apks):
    sig, _ = read(apks, "partner-v1v2")
    assert sig.schemes == ("v1", "v2")
    assert sig.effective(23)[0] == "v1" and sig.effective(24)[0] == "v2" and sig.effective(33)[0] == "v2"
    assert digests(sig.v1) == digests(sig.v2) == [PARTNER]


def test_v3(apks):
    sig, _ = read(apks, "partner-v3")
    assert sig.schemes == ("v1", "v2", "v3")
    scheme, signers = sig.effective(28)
    assert scheme == "v3" and digests(signers) == [PARTNER] and signers[0].lineage == ()
    assert signers[0].min_sdk is not None and signers[0].max_sdk is not None
    assert sig.effective(27)[0] == "v2"


def test_v3_key_rotation_with_verified_lineage(apks):
    sig, _ = read(apks, "partner-rotated")
    assert digests(sig.v1) == digests(sig.v2) == [PARTNER]  # old key for the old platforms
    scheme, signers = sig.effective(29)
    assert scheme == "v3" and digests(signers) == [PARTNER_2026]
    assert [c.sha256 for c in signers[0].lineage] == [PARTNER, PARTNER_2026]
    text = "\n".join(sig.describe(29))
    assert "uses v3" in text and f"lineage (oldest first): {PARTNER} -> {PARTNER_2026}" in text


def test_aosp_testkey_is_recognised(apks):
    sig, _ = read(apks, "testkey-v1v2")
    assert digests(sig.v2) == [TESTKEY]
    assert sig.v2[0].cert.test_key == "AOSP testkey" and sig.v2[0].cert.key == "RSA 2048"
    assert all(c.test_key for c in sig.all_signer_certs())
    other, _ = read(apks, "other-v1v2")
    assert digests(other.v2) == [OTHER] and other.v2[0].cert.test_key is None


def test_unsigned_apk_is_a_parse_error(apks):
    with pytest.raises(ParseError, match="carries no signature"):
        read(apks, "unsigned")


def test_not_a_zip_is_a_parse_error():
    with pytest.raises(ParseError, match="not a readable ZIP archive") as exc:
        read_local_apk("/system/app/X/X.apk", b"PK\x03\x04" + bytes(5000))
    assert "dd if=/system/app/X/X.apk" in str(exc.value)


def test_a_tampered_signing_block_does_not_verify(apks):
    data = bytearray((apks / "partner-v2.apk").read_bytes())
    cd_start = data.find(b"PK\x01\x02")
    assert bytes(data[cd_start - 16:cd_start]) == SIG_BLOCK_MAGIC
    at = bytes(data).find(_derived("partner")[1].public_bytes(serialization.Encoding.DER))  # in the v2 signed data
    assert at > 0
    data[at + 200] ^= 0x01  # one bit of the certificate inside the signed data
    with pytest.raises(ParseError, match="does not verify"):
        read_local_apk("/x.apk", bytes(data))


def _node(cert_der: bytes, parent_alg: int, alg: int, signature: bytes) -> bytes:
    def lp(b: bytes) -> bytes:
        return struct.pack("<I", len(b)) + b

    signed = lp(lp(cert_der) + struct.pack("<I", parent_alg))
    return lp(signed + struct.pack("<II", 0, alg) + lp(signature))


def _lineage_bytes(signer_of_second: ec.EllipticCurvePrivateKey) -> bytes:
    """partner -> other, the second node signed by ``signer_of_second`` (apksig lineage encoding)."""
    (_pk, partner_cert), (_ok, other_cert) = _derived("partner"), _derived("other")
    p_der, o_der = (c.public_bytes(serialization.Encoding.DER) for c in (partner_cert, other_cert))
    signed_second = struct.pack("<I", len(o_der)) + o_der + struct.pack("<I", 0x0201)
    signature = signer_of_second.sign(signed_second, ec.ECDSA(hashes.SHA256()))
    return struct.pack("<I", 1) + _node(p_der, 0, 0x0201, b"") + _node(o_der, 0x0201, 0x0201, signature)


def test_lineage_links_are_verified_so_a_rotation_cannot_be_forged():
    def bad(message: str) -> ParseError:
        return ParseError(message, command="test")

    genuine = _lineage(_lineage_bytes(_derived("partner")[0]), "v3 signer #1", bad)
    assert [c.sha256 for c in genuine] == [PARTNER, OTHER]
    with pytest.raises(ParseError, match="not signed by the previous key"):  # a repackager claims partner's key
        _lineage(_lineage_bytes(_derived("other")[0]), "v3 signer #1", bad)


def test_bytes_read_are_constant_in_apk_size(apks, tmp_path):
    from virtual_device.apk_fixtures import FIXTURES, build_one

    sizes, read_bytes = [], []
    for pad in (0, 4 * 1024 * 1024):
        spec = FIXTURES["partner-v1v2-3000"].__class__(f"p{pad}", ("partner",), entries=3000, pad_bytes=pad)
        path = build_one(spec, tmp_path / f"p{pad}.apk")
        sig, rounds = read_local_apk(str(path), path.read_bytes())
        assert digests(sig.v2) == [PARTNER] and len(rounds) == 3  # tail; central directory + footer; block + v1
        sizes.append(path.stat().st_size)
        read_bytes.append(sig.bytes_read)
    assert sizes[1] - sizes[0] >= 4 * 1024 * 1024
    assert abs(read_bytes[1] - read_bytes[0]) <= 128 and read_bytes[0] < 256 * 1024


def test_sparse_apk_tracks_ranges():
    apk = SparseApk(100, "/a.apk")
    apk.add(10, b"x" * 10)
    apk.add(30, b"y" * 10)
    assert apk.missing(0, 50) == [(0, 10), (20, 30), (40, 50)]
    apk.add(15, b"z" * 20)  # bridges both runs
    assert apk.missing(0, 50) == [(0, 10), (40, 50)]
    assert apk.pread(18, 4) == b"zzzz" and apk.bytes_fetched == 40
    apk.add(95, b"0123456789")  # clipped at the end of the file
    assert apk.pread(95, 10) == b"01234"
    with pytest.raises(NeedBytes) as need:
        apk.require([(0, 12), (90, 100)])
    assert need.value.spans == ((0, 10), (90, 95))


def test_the_first_request_is_the_tail():
    apk = SparseApk(10_000_000, "/big.apk")
    with pytest.raises(NeedBytes) as need:
        read_apk_signature(apk)
    assert need.value.spans == ((10_000_000 - EOCD_MAX_TAIL, 10_000_000),)


@pytest.mark.parametrize("name", ["partner-v2", "partner-v1v2", "partner-v3", "partner-rotated"])
def test_content_digests_verify_on_real_apks_and_catch_a_changed_byte(apks, name):
    """The chunked content digests apksigner signed are recomputed over every byte (a ROM build's APK); one byte
    changed in the contents after signing makes them differ. A v1-only APK has none to check."""
    import io

    from harness.apksig import read_stream_apk, verify_content_digests

    data = (apks / f"{name}.apk").read_bytes()
    sig = read_stream_apk(f"/system/app/X/{name}.apk", io.BytesIO(data))
    assert "content digests (SHA-256) match" in verify_content_digests(io.BytesIO(data), sig)
    changed = bytearray(data)
    changed[10] ^= 0x01  # first local file header's time field: the zip still reads
    with pytest.raises(ParseError, match="changed after it was signed"):
        verify_content_digests(io.BytesIO(bytes(changed)), sig)
    v1 = (apks / "partner-v1.apk").read_bytes()
    assert verify_content_digests(io.BytesIO(v1), read_stream_apk("/x.apk", io.BytesIO(v1))) == ""
