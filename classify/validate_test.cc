// classify/validate_test.cc: the rules of validate.h, case by case with
// hand-checked values, and every case of $CUSTODIA_TESTDATA/spanish_validators.
#include "classify/validate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace custodia::classify {
namespace {

constexpr IdKind kAllKinds[] = {IdKind::kDni,  IdKind::kNie, IdKind::kCif, IdKind::kNif,
                                IdKind::kIban, IdKind::kCcc, IdKind::kCups};

bool IsValid(IdKind kind, std::string_view text) { return Validate(kind, text).ok(); }

// ---------------------------------------------------------------------------
// DNI, NIE, K/L/M, CIF, NIF

TEST(ValidateTest, DniLetterIsTheNumberMod23) {
  EXPECT_TRUE(IsValid(IdKind::kDni, "12345678Z"));  // 12345678 mod 23 = 14
  EXPECT_TRUE(IsValid(IdKind::kDni, "00000000T"));
  EXPECT_TRUE(IsValid(IdKind::kDni, "00000023T"));
  EXPECT_TRUE(IsValid(IdKind::kDni, "99999999R"));
  EXPECT_TRUE(IsValid(IdKind::kDni, "54362315-K"));
  EXPECT_TRUE(IsValid(IdKind::kDni, " 54.362.315 k "));
  Verdict v = Validate(IdKind::kDni, "12345678A");
  EXPECT_EQ(v.flaw, Flaw::kChecksum);
  EXPECT_EQ(v.reason, "dni: check letter should be Z, not A");
}

TEST(ValidateTest, DniOfWrongShapeSaysWhy) {
  EXPECT_EQ(Validate(IdKind::kDni, "54362315").flaw, Flaw::kLength);
  EXPECT_EQ(Validate(IdKind::kDni, "1234567Z").flaw, Flaw::kLength);
  EXPECT_EQ(Validate(IdKind::kDni, "").flaw, Flaw::kLength);
  EXPECT_EQ(Validate(IdKind::kDni, " - . ").flaw, Flaw::kLength);
  EXPECT_EQ(Validate(IdKind::kDni, "1234567AZ").flaw, Flaw::kFormat);
  EXPECT_EQ(Validate(IdKind::kDni, "123456789").flaw, Flaw::kFormat);
  EXPECT_EQ(Validate(IdKind::kDni, "12345678\xC3\x91").flaw, Flaw::kFormat);  // Ñ
  EXPECT_EQ(Validate(IdKind::kDni, "12345678/Z").flaw, Flaw::kFormat);
}

TEST(ValidateTest, NieReadsXYZAsZeroOneTwo) {
  EXPECT_TRUE(IsValid(IdKind::kNie, "X1234567L"));  // 01234567 mod 23 = 19
  EXPECT_TRUE(IsValid(IdKind::kNie, "Y1234567X"));  // 11234567 mod 23 = 10
  EXPECT_TRUE(IsValid(IdKind::kNie, "Z1234567R"));  // 21234567 mod 23 = 1
  EXPECT_TRUE(IsValid(IdKind::kNie, "x-2482300w"));
  EXPECT_TRUE(IsValid(IdKind::kDni, "21234567R"));  // the same letter as Z1234567
  EXPECT_EQ(Validate(IdKind::kNie, "X1234567X").reason, "nie: check letter should be L, not X");
  EXPECT_EQ(Validate(IdKind::kNie, "A1234567L").flaw, Flaw::kFormat);
  EXPECT_EQ(Validate(IdKind::kNie, "X2482300").flaw, Flaw::kLength);
  EXPECT_EQ(Validate(IdKind::kNie, "12345678Z").flaw, Flaw::kFormat);
}

TEST(ValidateTest, KlmNifLetterIsOverTheSevenDigits) {
  EXPECT_TRUE(IsValid(IdKind::kNif, "M1234567L"));  // 1234567 mod 23 = 19
  EXPECT_TRUE(IsValid(IdKind::kNif, "K1234567L"));
  EXPECT_TRUE(IsValid(IdKind::kNif, "L-7654321-J"));
  EXPECT_EQ(Validate(IdKind::kNif, "M1234567A").reason, "nif: check letter should be L, not A");
  // Not CIFs: K, L and M are personal NIFs.
  EXPECT_EQ(Validate(IdKind::kCif, "M-1234567-L").flaw, Flaw::kFormat);
  EXPECT_EQ(Validate(IdKind::kCif, "K1234567L").flaw, Flaw::kFormat);
}

TEST(ValidateTest, CifControlFormFollowsTheEntityLetter) {
  // A, B, E, H: a digit. 5881850 -> 1; 6471783 -> 8.
  EXPECT_TRUE(IsValid(IdKind::kCif, "A58818501"));
  EXPECT_TRUE(IsValid(IdKind::kCif, "B64717838"));
  Verdict v = Validate(IdKind::kCif, "A5881850A");
  EXPECT_EQ(v.flaw, Flaw::kChecksum);
  EXPECT_EQ(v.reason, "cif: control character should be 1, not A");
  EXPECT_FALSE(IsValid(IdKind::kCif, "B6471783H"));
  // P, Q, R, S, N, W: a letter. 2818015 -> 6 = F; 1234567 -> 4 = D.
  EXPECT_TRUE(IsValid(IdKind::kCif, "Q2818015F"));
  EXPECT_TRUE(IsValid(IdKind::kCif, "P1234567D"));
  EXPECT_TRUE(IsValid(IdKind::kCif, "N1234567D"));
  EXPECT_TRUE(IsValid(IdKind::kCif, "W4003922D"));
  EXPECT_EQ(Validate(IdKind::kCif, "Q28180156").reason,
            "cif: control character should be F, not 6");
  EXPECT_FALSE(IsValid(IdKind::kCif, "P12345674"));
  // The others: either. 1300529 -> 3 = C; 9921658 -> 2 = B.
  EXPECT_TRUE(IsValid(IdKind::kCif, "F13005293"));
  EXPECT_TRUE(IsValid(IdKind::kCif, "F1300529C"));
  EXPECT_TRUE(IsValid(IdKind::kCif, "J99216582"));
  EXPECT_TRUE(IsValid(IdKind::kCif, "J9921658B"));
  EXPECT_EQ(Validate(IdKind::kCif, "J99216583").reason,
            "cif: control character should be 2 or B, not 3");
  // Letters that are no entity.
  for (std::string_view bad : {"O1234567L", "I12345674", "T12345674", "X12345674"}) {
    EXPECT_EQ(Validate(IdKind::kCif, bad).flaw, Flaw::kFormat) << bad;
  }
  EXPECT_EQ(Validate(IdKind::kCif, "J992165831").flaw, Flaw::kLength);
}

TEST(ValidateTest, NifTakesEveryFormAndAVatPrefix) {
  EXPECT_TRUE(IsValid(IdKind::kNif, "54362315K"));
  EXPECT_TRUE(IsValid(IdKind::kNif, "X-5253868-R"));
  EXPECT_TRUE(IsValid(IdKind::kNif, "M-1234567-L"));
  EXPECT_TRUE(IsValid(IdKind::kNif, "B64717838"));
  EXPECT_TRUE(IsValid(IdKind::kNif, "ES B-58378431"));
  EXPECT_TRUE(IsValid(IdKind::kNif, "es-x-2482300w"));
  EXPECT_TRUE(IsValid(IdKind::kDni, "ES54362315K"));
  EXPECT_EQ(Validate(IdKind::kNif, "ES ES Y5277343F").reason, "nif: a second ES prefix");
  EXPECT_FALSE(IsValid(IdKind::kNif, "B64717839"));
}

// ---------------------------------------------------------------------------
// CCC, IBAN

TEST(ValidateTest, CccCheckDigitsAreWeightedMod11) {
  EXPECT_TRUE(IsValid(IdKind::kCcc, "2100 0418 45 0200051332"));
  EXPECT_TRUE(IsValid(IdKind::kCcc, "1234-1234-16 1234567890"));
  // 11 - 10 = 1 is written 1 (account 1000000000), 11 - 0 = 11 is written 0.
  EXPECT_TRUE(IsValid(IdKind::kCcc, "2100 0418 41 1000000000"));
  EXPECT_TRUE(IsValid(IdKind::kCcc, "0049 1500 00 0000000000"));
  Verdict v = Validate(IdKind::kCcc, "1234-1234-00 1234567890");
  EXPECT_EQ(v.flaw, Flaw::kChecksum);
  EXPECT_EQ(v.reason, "ccc: check digits should be 16, not 00");
  EXPECT_EQ(Validate(IdKind::kCcc, "134-1234-16 1234567890").flaw, Flaw::kLength);
  EXPECT_EQ(Validate(IdKind::kCcc, "12X4-1234-16 1234567890").flaw, Flaw::kFormat);
}

TEST(ValidateTest, IbanIsMod97WithTheCountrysLengthAndStructure) {
  EXPECT_TRUE(IsValid(IdKind::kIban, "GB82 WEST 1234 5698 7654 32"));
  EXPECT_TRUE(IsValid(IdKind::kIban, "DE89370400440532013000"));
  EXPECT_TRUE(IsValid(IdKind::kIban, "FR14 2004 1010 0505 0001 3M02 606"));
  EXPECT_TRUE(IsValid(IdKind::kIban, "NO93 8601 1117 947"));
  EXPECT_TRUE(IsValid(IdKind::kIban, "MT84 MALT 0110 0001 2345 MTLC AST0 01S"));
  EXPECT_TRUE(IsValid(IdKind::kIban, "mc11 1273 9000 7000 1111 1000 h79"));
  EXPECT_TRUE(IsValid(IdKind::kIban, "IBAN: ES79 2100 0813 6101 2345 6789"));

  Verdict v = Validate(IdKind::kIban, "GB82WEST12345698765433");
  EXPECT_EQ(v.flaw, Flaw::kChecksum);
  EXPECT_EQ(v.reason, "iban: mod-97 check fails");
  v = Validate(IdKind::kIban, "GB82 WEST 1234 5698 7654");
  EXPECT_EQ(v.flaw, Flaw::kLength);
  EXPECT_EQ(v.reason, "iban: GB needs 22 characters, got 20");
  v = Validate(IdKind::kIban, "QQ93 1234 5678");
  EXPECT_EQ(v.flaw, Flaw::kComponent);
  EXPECT_EQ(v.reason, "iban: unknown country QQ");
  // Mod 97 holds, but NL's BBAN starts with 4 letters (the bank), not digits.
  v = Validate(IdKind::kIban, "NL56 3003 0A17 1643 00");
  EXPECT_EQ(v.flaw, Flaw::kFormat);
  EXPECT_EQ(v.reason, "iban: character 5 should be a letter");
  v = Validate(IdKind::kIban, "GB82 WEST 1234 5698 7654 3A");
  EXPECT_EQ(v.flaw, Flaw::kFormat);
  EXPECT_EQ(v.reason, "iban: character 22 should be a digit");
  EXPECT_EQ(Validate(IdKind::kIban, "1234").flaw, Flaw::kLength);
  EXPECT_EQ(Validate(IdKind::kIban, "12345678").flaw, Flaw::kFormat);
}

TEST(ValidateTest, IbanCheckDigits00And01And99AreRefusedThoughMod97Holds) {
  // 00 = 97, 01 = 98 and 99 = 02 (mod 97).
  EXPECT_TRUE(IsValid(IdKind::kIban, "GB97WEST00008112345678"));
  EXPECT_TRUE(IsValid(IdKind::kIban, "GB98WEST00007012345678"));
  EXPECT_TRUE(IsValid(IdKind::kIban, "GB02WEST00005912345678"));
  for (std::string_view bad :
       {"GB00WEST00008112345678", "GB01WEST00007012345678", "GB99WEST00005912345678"}) {
    Verdict v = Validate(IdKind::kIban, bad);
    EXPECT_EQ(v.flaw, Flaw::kChecksum) << bad;
    EXPECT_EQ(v.reason, "iban: check digits 00, 01 and 99 are never issued") << bad;
  }
}

TEST(ValidateTest, SpanishIbanAlsoChecksItsCcc) {
  EXPECT_TRUE(IsValid(IdKind::kIban, "ES91 2100 0418 4502 0005 1332"));
  // Mod 97 holds; the CCC's account digit does not.
  Verdict v = Validate(IdKind::kIban, "ES2121000418450200051331");
  EXPECT_EQ(v.flaw, Flaw::kChecksum);
  EXPECT_EQ(v.reason, "iban: ccc check digits should be 40, not 45");
}

// ---------------------------------------------------------------------------
// CUPS

TEST(ValidateTest, CupsLettersComeFromTheNumberMod529) {
  EXPECT_TRUE(IsValid(IdKind::kCups, "ES 1234-123456789012-jy"));  // 529 r 220 = 9*23+13
  EXPECT_TRUE(IsValid(IdKind::kCups, "ES1234123456789012JY1F"));
  EXPECT_TRUE(IsValid(IdKind::kCups, "ES1234123456789012JY0P"));
  EXPECT_TRUE(IsValid(IdKind::kCups, "ES0021000000000000RC"));
  EXPECT_TRUE(IsValid(IdKind::kCups, "ES0000000000000000TT"));
  Verdict v = Validate(IdKind::kCups, "ES1234123456789012XY");
  EXPECT_EQ(v.flaw, Flaw::kChecksum);
  EXPECT_EQ(v.reason, "cups: control letters should be JY, not XY");
  EXPECT_EQ(Validate(IdKind::kCups, "ES1234123456789012JY1T").flaw, Flaw::kFormat);
  EXPECT_EQ(Validate(IdKind::kCups, "ES1234123456789012JYXF").flaw, Flaw::kFormat);
  EXPECT_EQ(Validate(IdKind::kCups, "ES123412X456789012JY").flaw, Flaw::kFormat);
  EXPECT_EQ(Validate(IdKind::kCups, "ES12341245678901JY").flaw, Flaw::kLength);
  EXPECT_EQ(Validate(IdKind::kCups, "GB1234123456789012JY").flaw, Flaw::kComponent);
}

// ---------------------------------------------------------------------------
// Dates, amounts, periods

TEST(ValidateTest, IsValidDateKnowsLeapYears) {
  EXPECT_TRUE(IsValidDate(2024, 2, 29));
  EXPECT_FALSE(IsValidDate(2023, 2, 29));
  EXPECT_FALSE(IsValidDate(1900, 2, 29));
  EXPECT_TRUE(IsValidDate(2000, 2, 29));
  EXPECT_FALSE(IsValidDate(2024, 4, 31));
  EXPECT_TRUE(IsValidDate(2024, 12, 31));
  EXPECT_TRUE(IsValidDate(1, 1, 1));
  EXPECT_TRUE(IsValidDate(9999, 12, 31));
  EXPECT_FALSE(IsValidDate(2024, 0, 1));
  EXPECT_FALSE(IsValidDate(2024, 13, 1));
  EXPECT_FALSE(IsValidDate(2024, 1, 0));
  EXPECT_FALSE(IsValidDate(2024, 1, 32));
  EXPECT_FALSE(IsValidDate(0, 1, 1));
  EXPECT_FALSE(IsValidDate(10000, 1, 1));
  EXPECT_FALSE(IsValidDate(-2024, 1, 1));
}

std::string Or(const std::optional<std::string>& v) { return v ? *v : "<none>"; }

TEST(CanonicaliseTest, IdsLoseCaseSeparatorsAndPrefixes) {
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kNif, "ES - Q0818001J")), "Q0818001J");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kNif, "es-x-2482300w")), "X2482300W");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kIban, "IB AN ES91 2100 0418 4502 0005 1332")),
            "ES9121000418450200051332");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kDni, "54.362.315-k")), "54362315K");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kCif,
                              "B\xC2\xA0"
                              "64717838")),
            "B64717838");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kIban, "IBAN: ES91 2100-0418.4502 0005 1332")),
            "ES9121000418450200051332");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kIban, "iban es91 2100 0418 4502 0005 1332")),
            "ES9121000418450200051332");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kIban, "NO 44 1850.05.14562")), "NO4418500514562");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kCups, "ES 1234-123456789012-jy")), "ES1234123456789012JY");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kCcc, "2100 0418 45 0200051332")), "21000418450200051332");
  // Not ids; nothing is guessed.
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kNif, "B6471/7838")), "<none>");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kNif, "")), "<none>");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kNif, " - . ")), "<none>");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kNif, "ES")), "<none>");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kIban, "IBAN")), "<none>");
  // One prefix only, so that canonical forms are fixed points.
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kNif, "ES ES Y5277343F")), "<none>");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kIban, "IBAN IBAN ES9121000418450200051332")), "<none>");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kDni, "54362315\xC3\x91")), "<none>");
  // The "ES" prefix belongs to tax ids only.
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kIban, "ES9121000418450200051332")),
            "ES9121000418450200051332");
  EXPECT_EQ(Or(CanonicaliseId(IdKind::kCups, "ES1234123456789012JY")), "ES1234123456789012JY");
}

TEST(CanonicaliseTest, DatesFromTheFormsSpanishDocumentsUse) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"12/03/2024", "2024-03-12"},
      {"1/3/2024", "2024-03-01"},
      {"12-03-2024", "2024-03-12"},
      {"12.03.2024", "2024-03-12"},
      {" 12 / 03 / 2024 ", "2024-03-12"},
      {"29/02/2024", "2024-02-29"},
      {"12 de marzo de 2024", "2024-03-12"},
      {"12 DE MARZO DE 2024", "2024-03-12"},
      {"1º de marzo del 2024", "2024-03-01"},
      {"1 de enero de 2000", "2000-01-01"},
      {"12 MAR 2024", "2024-03-12"},
      {"12-mar-2024", "2024-03-12"},
      {"12 mar. 2024", "2024-03-12"},
      {"5 sept. 2023", "2023-09-05"},
      {"5 setiembre 2023", "2023-09-05"},
      {"31 dic 1999", "1999-12-31"},
      {"12 March 2024", "2024-03-12"},
      {"12MAR2024", "2024-03-12"},
      {"12 de marzo, 2024", "2024-03-12"},
      {"2024-03-12", "2024-03-12"},
      {"2024/3/5", "2024-03-05"},
      {"12\xC2\xA0"
       "de\xC2\xA0"
       "marzo de 2024",
       "2024-03-12"},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(Or(CanonicaliseDate(text)), want) << text;
}

TEST(CanonicaliseTest, TwoDigitYearsFollowThePosixPivot) {
  EXPECT_EQ(Or(CanonicaliseDate("12/03/24")), "2024-03-12");
  EXPECT_EQ(Or(CanonicaliseDate("1/3/00")), "2000-03-01");
  EXPECT_EQ(Or(CanonicaliseDate("1/3/68")), "2068-03-01");
  EXPECT_EQ(Or(CanonicaliseDate("1/3/69")), "1969-03-01");
  EXPECT_EQ(Or(CanonicaliseDate("31.12.99")), "1999-12-31");
  EXPECT_EQ(Or(CanonicaliseDate("12-mar-24")), "2024-03-12");
  EXPECT_EQ(Or(CanonicaliseDate("29/02/00")), "2000-02-29");
  EXPECT_EQ(Or(CanonicaliseDate("29/02/99")), "<none>");
}

TEST(CanonicaliseTest, ImpossibleOrUnknownDatesAreRefused) {
  for (std::string_view text : {"31/02/2024",
                                "29/02/2023",
                                "29/02/1900",
                                "00/01/2024",
                                "12/13/2024",
                                "12/03-2024",
                                "12 de marzzo de 2024",
                                "2024-13-01",
                                "2024-02-30",
                                "12/03/224",
                                "12/03/02024",
                                "12/03",
                                "marzo 2024",
                                "12 de marzo",
                                "2024-03-12T10:00",
                                "12/03/2024 10:15",
                                "03/12/2024 x",
                                "0000-01-01",
                                "",
                                " ",
                                "\xFF\xFE",
                                "1 2/03/2024"}) {
    EXPECT_EQ(Or(CanonicaliseDate(text)), "<none>") << text;
  }
}

TEST(CanonicaliseTest, AmountsFromTheFormsSpanishDocumentsUse) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"1.234,56 €", "1234.56"},
      {"1234,56", "1234.56"},
      {"1,234.56", "1234.56"},
      {"EUR 1.234,56", "1234.56"},
      {"-12,00", "-12.00"},
      {"12,00-", "-12.00"},
      {"€ -12,00", "-12.00"},
      {"-12,00 €", "-12.00"},
      {"- 12,00", "-12.00"},
      {"\xE2\x88\x92"
       "12,5",
       "-12.50"},
      {"+5", "5.00"},
      {"12€", "12.00"},
      {"1.234,56 euros", "1234.56"},
      {"1.234,56 EUR", "1234.56"},
      {"1.234.567,8", "1234567.80"},
      {"1,234,567.89", "1234567.89"},
      {"1.234.567", "1234567.00"},
      {"1,234,567", "1234567.00"},
      {"1 234 567,89", "1234567.89"},
      {"1\xC2\xA0"
       "234,56",
       "1234.56"},
      {"0,00", "0.00"},
      {"-0,00", "0.00"},
      {"007,50", "7.50"},
      {"0,123456", "0.123456"},
      {"12", "12.00"},
      {" 12,5 ", "12.50"},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(Or(CanonicaliseAmount(text)), want) << text;
}

TEST(CanonicaliseTest, OneSeparatorFollowsTheSpanishConvention) {
  // One '.' before exactly 3 digits groups thousands.
  EXPECT_EQ(Or(CanonicaliseAmount("1.234")), "1234.00");
  EXPECT_EQ(Or(CanonicaliseAmount("999.000")), "999000.00");
  // ... unless what precedes cannot lead a thousands group: a decimal point.
  EXPECT_EQ(Or(CanonicaliseAmount("0.125")), "0.125");
  EXPECT_EQ(Or(CanonicaliseAmount("1234.567")), "1234.567");
  // Any other '.' is a decimal point.
  EXPECT_EQ(Or(CanonicaliseAmount("1.5")), "1.50");
  EXPECT_EQ(Or(CanonicaliseAmount("1234.56")), "1234.56");
  EXPECT_EQ(Or(CanonicaliseAmount("1.2345")), "1.2345");
  // One ',' is always a decimal comma, even before 3 digits.
  EXPECT_EQ(Or(CanonicaliseAmount("1,5")), "1.50");
  EXPECT_EQ(Or(CanonicaliseAmount("1,234")), "1.234");
}

TEST(CanonicaliseTest, AmountsThatCannotBeReadOneWayAreRefused) {
  for (std::string_view text : {"",
                                " ",
                                "€",
                                "EUR",
                                "-",
                                "$12.00",
                                "12 USD",
                                "12 €€",
                                "1,23.45",
                                "1.2.3",
                                "12 34",
                                "1.234,56.7",
                                "1.234.56,7",
                                "12,,5",
                                ",50",
                                "50,",
                                "1..2",
                                "1.234.5",
                                "1 234.567",
                                "0.123.456",
                                "1,234 567",
                                "--12",
                                "12-3",
                                "-12-",
                                "1e3",
                                "12,00 €-",
                                "EUR 12 €",
                                "\xFF"
                                "12",
                                "12\xE2\x82",
                                "1.234,5 6"}) {
    EXPECT_EQ(Or(CanonicaliseAmount(text)), "<none>") << text;
  }
}

TEST(CanonicaliseTest, PeriodsBecomeYearAndMonth) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"marzo 2024", "2024-03"},
      {"MARZO DE 2024", "2024-03"},
      {"Marzo del 2024", "2024-03"},
      {"mar. 2024", "2024-03"},
      {"Marzo-2024", "2024-03"},
      {"Sept 2023", "2023-09"},
      {"03/2024", "2024-03"},
      {"3/2024", "2024-03"},
      {"03-2024", "2024-03"},
      {"2024-03", "2024-03"},
      {"2024/3", "2024-03"},
      {" diciembre 1999 ", "1999-12"},
      {"marzo\xC2\xA0"
       "2024",
       "2024-03"},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(Or(CanonicalisePeriod(text)), want) << text;
  for (std::string_view text : {"03/24", "13/2024", "00/2024", "marzo", "2024", "marzzo 2024", "",
                                "2024-13", "12 de marzo de 2024", "marzo 24"}) {
    EXPECT_EQ(Or(CanonicalisePeriod(text)), "<none>") << text;
  }
}

// ---------------------------------------------------------------------------
// OCR repair

std::string Describe(const std::optional<Repair>& r) {
  if (!r) return "<none>";
  std::string s = r->value;
  for (const Substitution& sub : r->substitutions) {
    s += " " + std::to_string(sub.position) + ":" + sub.from + ">" + sub.to;
  }
  return s;
}

TEST(RepairIdTest, ValidAsReadNeedsNoSubstitution) {
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "54362315-K")), "54362315K");
  EXPECT_EQ(Describe(RepairId(IdKind::kIban, "ES91 2100 0418 4502 0005 1332")),
            "ES9121000418450200051332");
}

TEST(RepairIdTest, ConfusionsAreRepairedWhereTheOtherClassIsExpected) {
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "5436231S-K")), "54362315K 7:S>5");
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "l2345678Z")), "12345678Z 0:l>1");
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "12345678 2")), "12345678Z 8:2>Z");
  EXPECT_EQ(Describe(RepairId(IdKind::kNie, "X-I234567-L")), "X1234567L 1:I>1");
  EXPECT_EQ(Describe(RepairId(IdKind::kNie, "2-1234567-R")), "Z1234567R 0:2>Z");
  EXPECT_EQ(Describe(RepairId(IdKind::kCif, "8647I7838")), "B64717838 0:8>B 4:I>1");
  EXPECT_EQ(Describe(RepairId(IdKind::kIban, "ES79 2100 O813 6l01 2345 6789")),
            "ES7921000813610123456789 8:O>0 13:l>1");
  EXPECT_EQ(Describe(RepairId(IdKind::kIban, "E579 2100 0813 6101 2345 6789")),
            "ES7921000813610123456789 1:5>S");
  EXPECT_EQ(Describe(RepairId(IdKind::kCups, "ES 1234 1234 5678 9O12 JY")),
            "ES1234123456789012JY 15:O>0");
  EXPECT_EQ(Describe(RepairId(IdKind::kCcc, "2100 04I8 45 O2000S1332")),
            "21000418450200051332 6:I>1 10:O>0 15:S>5");
}

TEST(RepairIdTest, AmbiguityIsNeverResolved) {
  // As a NIE, Z1234567R; as a DNI, 21234567R: both valid, so a NIF stays as read.
  EXPECT_EQ(Describe(RepairId(IdKind::kNie, "Z1234S67R")), "Z1234567R 5:S>5");
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "Z1234S67R")), "21234567R 0:Z>2 5:S>5");
  EXPECT_EQ(Describe(RepairId(IdKind::kNif, "Z1234S67R")), "<none>");
  // As a DNI, 81000426S; as a CIF, B10004265: both valid.
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "8100O426S")), "81000426S 4:O>0");
  EXPECT_EQ(Describe(RepairId(IdKind::kCif, "8100O426S")), "B10004265 0:8>B 4:O>0 8:S>5");
  EXPECT_EQ(Describe(RepairId(IdKind::kNif, "8100O426S")), "<none>");
}

TEST(RepairIdTest, AtMostThreePositionsAreSubstituted) {
  EXPECT_TRUE(IsValid(IdKind::kDni, "50000001W"));
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "5OOO0001W")), "50000001W 1:O>0 2:O>0 3:O>0");
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "5OOOO001W")), "<none>");
}

TEST(RepairIdTest, NoValidCandidateMeansNoRepair) {
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "5436231S-Z")), "<none>");
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "ABCDEFGHI")), "<none>");
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "")), "<none>");
  EXPECT_EQ(Describe(RepairId(IdKind::kDni, "54362315K!")), "<none>");
  EXPECT_EQ(Describe(RepairId(IdKind::kIban, "QQ79 2100 O813")), "<none>");
  // J's control may be a digit or a letter, so an 8 there is never read as B.
  EXPECT_TRUE(IsValid(IdKind::kCif, "J9921658B"));
  EXPECT_EQ(Describe(RepairId(IdKind::kCif, "J99216588")), "<none>");
}

// ---------------------------------------------------------------------------
// Hostile input

void Exercise(std::string_view text) {
  for (IdKind kind : kAllKinds) {
    Verdict v = Validate(kind, text);
    EXPECT_EQ(v.ok(), v.reason.empty());
    std::optional<std::string> id = CanonicaliseId(kind, text);
    if (id) {
      EXPECT_EQ(Validate(kind, *id).flaw, v.flaw);  // canonical forms are fixed points
    }
    std::optional<Repair> r = RepairId(kind, text);
    if (r) {
      EXPECT_TRUE(IsValid(kind, r->value));
      EXPECT_LE(r->substitutions.size(), 3u);
    }
  }
  (void)CanonicaliseDate(text);
  (void)CanonicaliseAmount(text);
  (void)CanonicalisePeriod(text);
}

TEST(ValidateTest, AnyBytesAreSafe) {
  Exercise("");
  for (int b = 0; b < 256; ++b) {
    std::string one(1, static_cast<char>(b));
    Exercise(one);
    Exercise("5436231" + one + "K");
    Exercise("ES91 2100 0418 4502 " + one + " 1332");
    Exercise("12" + one + "03" + one + "2024");
    Exercise("1" + one + "234,56 €");
  }
  const std::string_view odd[] = {std::string_view("\0\0", 2),
                                  std::string_view("5436\0"
                                                   "2315K",
                                                   10),
                                  "\xC2",
                                  "\xC2\xA0",
                                  "\xA0\xC2",
                                  "\xE2\x82",
                                  "\xE2\x82\xAC",
                                  "\xC0\xAF",
                                  "\xED\xA0\x80",
                                  "\xF4\x90\x80\x80",
                                  "IBAN:",
                                  "IBAN::ES",
                                  "ESES",
                                  "1º",
                                  "º",
                                  "de de de 2024",
                                  "€€€",
                                  "----",
                                  "....",
                                  ",,,,"};
  for (std::string_view text : odd) Exercise(text);
}

TEST(ValidateTest, HugeInputIsRefusedCheaply) {
  for (char fill : {'0', 'O', ' ', '.', '1', 'S'}) {
    std::string huge(1 << 22, fill);
    Exercise(huge);
    EXPECT_EQ(Validate(IdKind::kIban, huge).flaw, Flaw::kLength);
  }
  // Just under the limits: still linear work.
  Exercise(std::string(256, 'O'));
  Exercise(std::string(64, '1'));
  Exercise(std::string(63, '.') + "1");
}

TEST(ValidateTest, EveryTruncationAndByteFlipOfValidIdsIsSafe) {
  const std::pair<IdKind, std::string_view> valid[] = {
      {IdKind::kDni, "54362315K"},
      {IdKind::kNie, "X2482300W"},
      {IdKind::kCif, "B64717838"},
      {IdKind::kNif, "Q2818015F"},
      {IdKind::kCcc, "21000418450200051332"},
      {IdKind::kIban, "ES9121000418450200051332"},
      {IdKind::kCups, "ES1234123456789012JY1F"},
  };
  for (const auto& [kind, id] : valid) {
    ASSERT_TRUE(IsValid(kind, id)) << id;
    for (std::size_t n = 0; n < id.size(); ++n) Exercise(id.substr(0, n));
    for (std::size_t i = 0; i < id.size(); ++i) {
      for (int b = 0; b < 256; ++b) {
        std::string flipped(id);
        flipped[i] = static_cast<char>(b);
        Exercise(flipped);
      }
    }
  }
}

TEST(ValidateTest, OneWrongDigitIsAlwaysCaughtByMod23AndMod97) {
  const std::pair<IdKind, std::string_view> valid[] = {
      {IdKind::kDni, "54362315K"},
      {IdKind::kNie, "X2482300W"},
      {IdKind::kIban, "ES9121000418450200051332"},
      {IdKind::kIban, "GB82WEST12345698765432"},
  };
  for (const auto& [kind, id] : valid) {
    for (std::size_t i = 0; i < id.size(); ++i) {
      if (id[i] < '0' || id[i] > '9') continue;
      for (char d = '0'; d <= '9'; ++d) {
        if (d == id[i]) continue;
        std::string changed(id);
        changed[i] = d;
        EXPECT_FALSE(IsValid(kind, changed)) << changed;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// $CUSTODIA_TESTDATA/spanish_validators/*.tsv
//
// Three layouts, told apart by their header line:
//   validator input expected normalized error_class upstream_comment
//     (python-stdnum module docstrings; `validator` names the rule: es.dni ...)
//   number expected source_line_in_test_eu_vat.doctest   (EU VAT numbers: NIFs)
//   number expected source_line_in_test_iban.doctest     (IBANs)
// `expected` is "valid", "invalid" or "invalid_<why>"; a file of another
// layout fails the test until it is taught here.

// Cases the data marks valid although the upstream test its own
// source_line column points at (python-stdnum tests/test_eu_vat.doctest)
// lists them as invalid: 762-764 sit under "mangled so their check digit is
// wrong" (InvalidChecksum), 865 under "the wrong length" (InvalidLength).
// The official rules agree with upstream, so they are expected invalid here.
struct Erratum {
  std::string_view file;
  std::string_view input;
  std::string_view why;
};
constexpr Erratum kErrata[] = {
    {"derived_es_vat_nif_cases.tsv", "ES 54362415K", "54362415 mod 23 is 6: Y, not K"},
    {"derived_es_vat_nif_cases.tsv", "ES K-2814015-F", "2814015 mod 23 is 11: B, not F"},
    {"derived_es_vat_nif_cases.tsv", "ES-x-2322300w", "02322300 mod 23 is 13: J, not W"},
    {"derived_es_vat_nif_cases.tsv", "ES B-583784312", "10 characters: a CIF has 9"},
};

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    std::size_t tab = line.find('\t', start);
    fields.push_back(
        line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

std::string_view FlawName(Flaw flaw) {
  switch (flaw) {
    case Flaw::kNone:
      return "none";
    case Flaw::kFormat:
      return "InvalidFormat";
    case Flaw::kLength:
      return "InvalidLength";
    case Flaw::kComponent:
      return "InvalidComponent";
    case Flaw::kChecksum:
      return "InvalidChecksum";
  }
  return "?";
}

struct Outcome {
  bool known = true;  // false: the case names a rule we do not have
  IdKind kind = IdKind::kNif;
  Verdict verdict;
};

// The verdict for one docstring case: `validator` is "es.<rule>".
Outcome JudgeDocstring(const std::string& validator, const std::string& input) {
  Outcome o;
  if (validator == "es.dni")
    o.kind = IdKind::kDni;
  else if (validator == "es.nie")
    o.kind = IdKind::kNie;
  else if (validator == "es.nif")
    o.kind = IdKind::kNif;
  else if (validator == "es.cif")
    o.kind = IdKind::kCif;
  else if (validator == "es.ccc")
    o.kind = IdKind::kCcc;
  else if (validator == "es.cups")
    o.kind = IdKind::kCups;
  else if (validator == "es.iban")
    o.kind = IdKind::kIban;
  else
    o.known = false;
  if (!o.known) return o;
  o.verdict = Validate(o.kind, input);
  if (validator == "es.iban") {
    // A Spanish IBAN: any other country is an unknown component first.
    std::optional<std::string> id = CanonicaliseId(IdKind::kIban, input);
    if (id && id->substr(0, 2) != "ES") o.verdict = Verdict{Flaw::kComponent, "iban: not ES"};
  }
  return o;
}

TEST(SpanishValidatorsDataTest, AgreesWithEveryCase) {
  const char* root = std::getenv("CUSTODIA_TESTDATA");
  if (root == nullptr || *root == '\0') {
    GTEST_SKIP() << "CUSTODIA_TESTDATA is unset; point it at shared/testdata to check the "
                    "validators against spanish_validators/*.tsv";
  }
  const std::filesystem::path dir = std::filesystem::path(root) / "spanish_validators";
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".tsv") files.push_back(entry.path());
  }
  ASSERT_FALSE(ec) << dir << ": " << ec.message();
  ASSERT_FALSE(files.empty()) << "no .tsv files in " << dir;
  std::sort(files.begin(), files.end());

  std::vector<bool> erratum_seen(std::size(kErrata), false);
  std::string disagreements;
  for (const std::filesystem::path& path : files) {
    const std::string file = path.filename().string();
    std::ifstream in(path);
    ASSERT_TRUE(in) << "cannot read " << path;
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::vector<std::string> header = SplitTabs(line);
    const bool docstring = header.size() >= 5 && header[0] == "validator" && header[1] == "input" &&
                           header[2] == "expected" && header[3] == "normalized" &&
                           header[4] == "error_class";
    const bool vat = header.size() == 3 && header[0] == "number" && header[1] == "expected" &&
                     header[2] == "source_line_in_test_eu_vat.doctest";
    const bool iban = header.size() == 3 && header[0] == "number" && header[1] == "expected" &&
                      header[2] == "source_line_in_test_iban.doctest";
    if (!docstring && !vat && !iban) {
      ADD_FAILURE() << file << ": unknown layout \"" << line << "\"; teach this test its columns";
      continue;
    }

    int line_no = 1;
    int cases = 0;
    int agree = 0;
    int errata = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      const std::vector<std::string> f = SplitTabs(line);
      const std::string where = file + ":" + std::to_string(line_no) + ": ";
      if (f.size() < (docstring ? 5u : 3u)) {
        disagreements += where + "too few columns\n";
        continue;
      }
      ++cases;
      const std::string& input = docstring ? f[1] : f[0];
      const std::string& label = docstring ? f[2] : f[1];

      Outcome o;
      if (docstring) {
        o = JudgeDocstring(f[0], input);
      } else if (vat) {
        // EU VAT numbers; all of this file's are Spanish, so NIFs.
        o.kind = IdKind::kNif;
        o.known = input.size() >= 2 && (input[0] == 'E' || input[0] == 'e') &&
                  (input[1] == 'S' || input[1] == 's');
        o.verdict = Validate(IdKind::kNif, input);
      } else {
        o.kind = IdKind::kIban;
        o.verdict = Validate(IdKind::kIban, input);
      }
      if (!o.known) {
        disagreements += where + "no validator for \"" + input + "\"\n";
        continue;
      }

      bool want_valid;
      if (label == "valid") {
        want_valid = true;
      } else if (label.rfind("invalid", 0) == 0) {
        want_valid = false;
      } else {
        disagreements += where + "unknown label \"" + label + "\"\n";
        continue;
      }
      for (std::size_t e = 0; e < std::size(kErrata); ++e) {
        if (kErrata[e].file == file && kErrata[e].input == input && want_valid) {
          erratum_seen[e] = true;
          want_valid = false;
          ++errata;
        }
      }

      std::string problem;
      if (o.verdict.ok() != want_valid) {
        problem = std::string("expected ") + (want_valid ? "valid" : "invalid") + ", got " +
                  (o.verdict.ok() ? "valid" : "invalid (" + o.verdict.reason + ")");
      } else if (label == "invalid_national_check(mod97_ok)" &&
                 o.verdict.reason.find("ccc") == std::string::npos) {
        problem = "expected the national (CCC) check to fail, got: " + o.verdict.reason;
      } else if (docstring && want_valid && !f[3].empty() &&
                 CanonicaliseId(o.kind, input).value_or("<none>") != f[3]) {
        problem = "canonical form " + CanonicaliseId(o.kind, input).value_or("<none>") +
                  ", expected " + f[3];
      } else if (docstring && !want_valid && !f[4].empty() && FlawName(o.verdict.flaw) != f[4]) {
        problem = std::string("flaw ") + std::string(FlawName(o.verdict.flaw)) + " (" +
                  o.verdict.reason + "), expected " + f[4];
      }
      if (problem.empty()) {
        ++agree;
      } else {
        disagreements += where + "\"" + input + "\" (" + label + "): " + problem + "\n";
      }
    }
    std::printf("%s: %d of %d cases agree (%d of them errata, see kErrata)\n", file.c_str(), agree,
                cases, errata);
    EXPECT_GT(cases, 0) << file << " has no cases";
  }
  EXPECT_EQ(disagreements, "") << "cases where the validators and the data disagree";
  for (std::size_t e = 0; e < std::size(kErrata); ++e) {
    EXPECT_TRUE(erratum_seen[e]) << kErrata[e].file << ": \"" << kErrata[e].input
                                 << "\" is no longer marked valid; drop it from kErrata";
  }
}

}  // namespace
}  // namespace custodia::classify
